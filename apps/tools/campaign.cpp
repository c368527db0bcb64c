#include "campaign.hpp"

#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <unordered_map>
#include <unordered_set>

#include <nlohmann/json.hpp>

#include "parsl/runtime/file.hpp"
#include "parsl/serial/text.hpp"

namespace parsl::campaign {

Format format_of(const std::string& filename) {
  auto ends = [&](const std::string& s) {
    return filename.size() >= s.size() && filename.compare(filename.size() - s.size(), s.size(), s) == 0;
  };
  return ends(".jsonl") || ends(".json") ? Format::json_lines : Format::text;
}

std::size_t max_command_bytes() {
  const long page = ::sysconf(_SC_PAGESIZE);
  return static_cast<std::size_t>(32 * (page > 0 ? page : 4096)) - 1;
}

namespace {

bool is_control(unsigned char c) { return (c < 0x20 && c != '\t') || c == 0x7F; }

// Where a text line stops being text: a NUL, another control character than tab, or bytes
// that are not UTF-8. Empty when the line is clean.
std::string binary_problem(std::string_view line) {
  for (std::size_t i = 0; i < line.size();) {
    const auto c = static_cast<unsigned char>(line[i]);
    char hex[8];
    std::snprintf(hex, sizeof hex, "\\x%02x", c);
    const std::string col = " at column " + std::to_string(i + 1);
    if (c == 0) return "holds a NUL byte" + col + ": binary data, not a command (is this a task file?)";
    if (is_control(c))
      return "holds the control character " + std::string(hex) + col + ": binary data, not a command";
    const std::size_t n = utf8_length(line, i);
    if (n == 0) return "holds bytes that are not UTF-8 text (" + std::string(hex) + col + "): is the file text?";
    i += n;
  }
  return {};
}

constexpr std::size_t kMaxJsonDepth = 32;

// Deeper than `max` arrays and objects? Counted on the raw text (strings skipped), before
// the parser or any error message walks the value recursively.
bool nested_deeper_than(std::string_view text, std::size_t max) {
  std::size_t depth = 0;
  bool in_string = false, escaped = false;
  for (char c : text) {
    if (in_string) {
      if (escaped) escaped = false;
      else if (c == '\\') escaped = true;
      else if (c == '"') in_string = false;
    } else if (c == '"') {
      in_string = true;
    } else if (c == '[' || c == '{') {
      if (++depth > max) return true;
    } else if ((c == ']' || c == '}') && depth > 0) {
      --depth;
    }
  }
  return false;
}

// A JSON value for an error message: its text, cut short.
std::string excerpt_json(const nlohmann::json& v) { return excerpt(v.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace)); }

std::string quote(std::string_view s) { return "\"" + excerpt(s) + "\""; }

struct Problems {
  std::string file;
  std::size_t max = 20;
  std::vector<std::string> list;
  std::vector<int> lines;
  std::string stopped;  ///< why reading stopped early, if it did
  void add(int line, const std::string& what) {
    list.push_back(file + ":" + std::to_string(line) + ": " + what);
    lines.push_back(line);
  }
  bool full() const { return list.size() >= max; }
  [[noreturn]] void raise() {
    // In line order, as an editor would walk them.
    std::vector<std::size_t> idx(list.size());
    for (std::size_t i = 0; i < idx.size(); ++i) idx[i] = i;
    std::stable_sort(idx.begin(), idx.end(), [&](std::size_t a, std::size_t b) {
      return (a < lines.size() ? lines[a] : 0) < (b < lines.size() ? lines[b] : 0);
    });
    std::vector<std::string> sorted;
    for (std::size_t i : idx) sorted.push_back(list[i]);
    list = std::move(sorted);
    std::string m = "bad task file " + file + " (" + std::to_string(list.size()) + " problem" +
                    (list.size() == 1 ? "" : "s") + (stopped.empty() ? "" : " before reading stopped") +
                    "; no task was run):";
    for (std::size_t i = 0; i < list.size() && i < max; ++i) m += "\n  " + list[i];
    if (list.size() > max) m += "\n  ... and " + std::to_string(list.size() - max) + " more";
    if (!stopped.empty()) m += "\n  " + stopped;
    throw CampaignError(m);
  }
};

// A string value for a key: no NUL (a shell command or a path cannot hold one).
bool clean_string(const std::string& v, const char* key, int line, Problems& p) {
  const auto nul = v.find('\0');
  if (nul == std::string::npos) return true;
  p.add(line, std::string("\"") + key + "\" holds a NUL character (\\u0000) at position " + std::to_string(nul + 1) +
                  ", which no command or path can hold");
  return false;
}

std::vector<std::string> string_list(const nlohmann::json& v, const char* key, int line, Problems& p, bool& ok) {
  std::vector<std::string> out;
  if (!v.is_array()) {
    p.add(line, std::string("\"") + key + "\" must be an array of strings, got " + excerpt_json(v));
    ok = false;
    return out;
  }
  for (const auto& e : v) {
    if (e.is_string()) {
      ok = clean_string(e.get_ref<const std::string&>(), key, line, p) && ok;
      out.push_back(e.get<std::string>());
    } else if (e.is_number_integer() && std::string(key) == "depends") {
      out.push_back(std::to_string(e.get<long long>()));
    } else {
      p.add(line, std::string("\"") + key + "\" holds " + excerpt_json(e) + ", not a string");
      ok = false;
    }
  }
  return out;
}

// nlohmann's message, without its "[json.exception...] " prefix, cut short (it can quote a
// whole token).
std::string json_reason(const nlohmann::json::exception& e) {
  std::string what = e.what();
  const auto at = what.find("] ");
  return excerpt(at == std::string::npos ? what : what.substr(at + 2), 160);
}

std::optional<Task> parse_json_line(const std::string& text, int line, Problems& p) {
  if (nested_deeper_than(text, kMaxJsonDepth)) {
    p.add(line, "JSON nested deeper than " + std::to_string(kMaxJsonDepth) + " levels (a task is one flat object)");
    return std::nullopt;
  }
  // Keys seen in each open object: nlohmann keeps the last of duplicate keys without a word.
  std::vector<std::unordered_set<std::string>> open_objects;
  std::string duplicate;
  const nlohmann::json::parser_callback_t watch = [&](int, nlohmann::json::parse_event_t event, nlohmann::json& parsed) {
    using E = nlohmann::json::parse_event_t;
    if (event == E::object_start) {
      open_objects.emplace_back();
    } else if (event == E::object_end) {
      if (!open_objects.empty()) open_objects.pop_back();
    } else if (event == E::key && !open_objects.empty() && parsed.is_string()) {
      if (!open_objects.back().insert(parsed.get<std::string>()).second && duplicate.empty())
        duplicate = parsed.get<std::string>();
    }
    return true;
  };
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(text, watch);
  } catch (const nlohmann::json::parse_error& e) {
    p.add(line, "malformed JSON: " + json_reason(e));
    return std::nullopt;
  } catch (const nlohmann::json::exception& e) {
    // out_of_range.406: a number beyond a double (1e400).
    p.add(line, "a JSON value out of range: " + json_reason(e));
    return std::nullopt;
  }
  if (!duplicate.empty()) {
    p.add(line, "the key " + quote(duplicate) + " appears twice in one object (which one is meant?)");
    return std::nullopt;
  }
  if (!j.is_object()) {
    p.add(line, "expected a JSON object ({\"id\": ..., \"command\": ...}), got " + std::string(j.type_name()));
    return std::nullopt;
  }
  Task t;
  t.line = line;
  bool ok = true;
  for (auto it = j.begin(); it != j.end(); ++it) {
    const std::string& k = it.key();
    const auto& v = it.value();
    if (k == "id") {
      if (v.is_string() && !v.get<std::string>().empty()) {
        ok = clean_string(v.get_ref<const std::string&>(), "id", line, p) && ok;
        t.id = v.get<std::string>();
      } else if (v.is_number_integer()) {
        t.id = std::to_string(v.get<long long>());
      } else {
        p.add(line, "\"id\" must be a non-empty string or an integer, got " + excerpt_json(v));
        ok = false;
      }
    } else if (k == "command") {
      if (v.is_string() && !v.get<std::string>().empty()) {
        const auto& command = v.get_ref<const std::string&>();
        ok = clean_string(command, "command", line, p) && ok;
        if (command.size() > max_command_bytes()) {
          p.add(line, "\"command\" is " + std::to_string(command.size()) + " bytes, longer than the system can start (" +
                          std::to_string(max_command_bytes()) + "); put it in a script and run that");
          ok = false;
        }
        t.command = command;
      } else {
        p.add(line, "\"command\" must be a non-empty string, got " + excerpt_json(v));
        ok = false;
      }
    } else if (k == "depends") {
      t.depends = string_list(v, "depends", line, p, ok);
    } else if (k == "retries") {
      if (v.is_number_integer() && v.get<long long>() >= 0 && v.get<long long>() <= 1000)
        t.retries = static_cast<int>(v.get<long long>());
      else {
        p.add(line, "\"retries\" must be a whole number from 0 to 1000, got " + excerpt_json(v));
        ok = false;
      }
    } else if (k == "walltime") {
      const double w = v.is_number() ? v.get<double>() : 0;
      if (v.is_number() && std::isfinite(w) && w > 0 && w <= kMaxWalltime)
        t.walltime = w;
      else {
        p.add(line, "\"walltime\" must be a number of seconds > 0 and at most " +
                        std::to_string(static_cast<long>(kMaxWalltime)) + " (a year), got " + excerpt_json(v));
        ok = false;
      }
    } else if (k == "cores" || k == "gpus" || k == "ranks") {
      const long long lo = k == "gpus" ? 0 : 1, hi = k == "cores" ? 65536 : k == "gpus" ? 1024 : 16777216;
      if (v.is_number_integer() && v.get<long long>() >= lo && v.get<long long>() <= hi)
        (k == "cores" ? t.cores : k == "gpus" ? t.gpus : t.ranks) = static_cast<int>(v.get<long long>());
      else {
        p.add(line, "\"" + k + "\" must be a whole number from " + std::to_string(lo) + " to " + std::to_string(hi) +
                        ", got " + excerpt_json(v));
        ok = false;
      }
    } else if (k == "inputs" || k == "outputs") {
      auto files = string_list(v, k.c_str(), line, p, ok);
      for (const auto& f : files) {
        try {
          (void)File(f);
        } catch (const Error& e) {
          p.add(line, "\"" + k + "\": " + excerpt(e.what(), 160));
          ok = false;
        }
      }
      (k == "inputs" ? t.inputs : t.outputs) = std::move(files);
    } else {
      p.add(line, "unknown key " + quote(k) + " (known: id, command, depends, retries, walltime, cores, gpus, ranks, inputs, outputs)");
      ok = false;
    }
  }
  if (!j.contains("command")) {
    p.add(line, "no \"command\"");
    ok = false;
  }
  if (!j.contains("id")) t.id = std::to_string(line);
  return ok ? std::optional<Task>(std::move(t)) : std::nullopt;
}

// Reads one line (without its '\n') into `out`. Returns false at the end of the input.
// A line longer than `max` bytes is not kept whole: `too_long` is set, and reading stops.
bool next_line(std::streambuf& in, std::string& out, std::size_t max, bool& too_long) {
  out.clear();
  too_long = false;
  using traits = std::char_traits<char>;
  int c = in.sbumpc();
  if (c == traits::eof()) return false;
  while (c != traits::eof() && c != '\n') {
    if (out.size() >= max) {
      too_long = true;
      return true;
    }
    out.push_back(static_cast<char>(c));
    c = in.sbumpc();
  }
  return true;
}

}  // namespace

Campaign parse(std::istream& in, const std::string& filename, Format format, const Limits& limits) {
  Problems p{excerpt(filename, 200), std::max<std::size_t>(limits.max_problems, 1), {}, {}, {}};
  Campaign c;
  std::string text;
  int line = 0;
  bool too_long = false;
  std::streambuf* buf = in.rdbuf();
  while (buf != nullptr && next_line(*buf, text, limits.max_line_bytes, too_long)) {
    ++line;
    if (too_long) {
      p.add(line, "a line longer than " + std::to_string(limits.max_line_bytes) + " bytes (" + excerpt(text, 40) +
                      "): is this a task file?");
      p.stopped = "reading stopped at line " + std::to_string(line);
      break;
    }
    if (!text.empty() && text.back() == '\r') text.pop_back();
    const auto first = text.find_first_not_of(" \t");
    if (first == std::string::npos || text[first] == '#') {
      // Comments too must be text: a binary file is refused however it starts.
      if (first != std::string::npos) {
        if (auto bad = binary_problem(text); !bad.empty()) p.add(line, "the line " + bad);
      }
    } else if (c.tasks.size() >= limits.max_tasks) {
      p.add(line, "more than " + std::to_string(limits.max_tasks) +
                      " tasks in one file (--max-tasks raises the limit; or split the campaign)");
      p.stopped = "reading stopped at line " + std::to_string(line);
      break;
    } else if (format == Format::text) {
      if (auto bad = binary_problem(text); !bad.empty()) {
        p.add(line, "the line " + bad);
      } else if (text.size() - first > max_command_bytes()) {
        p.add(line, "the command is " + std::to_string(text.size() - first) +
                        " bytes, longer than the system can start (" + std::to_string(max_command_bytes()) +
                        "); put it in a script and run that");
      } else {
        Task t;  // by name: a positional list silently shifts when Task gains a field
        t.id = std::to_string(line);
        t.command = text.substr(first);
        t.line = line;
        c.tasks.push_back(std::move(t));
      }
    } else if (auto t = parse_json_line(text, line, p)) {
      c.tasks.push_back(std::move(*t));
    }
    if (p.full()) {
      p.stopped = "reading stopped at line " + std::to_string(line) + " after " + std::to_string(p.max) + " problems";
      break;
    }
  }
  if (in.bad()) throw CampaignError("cannot read the task file " + p.file);
  if (c.tasks.empty() && p.list.empty()) p.list.push_back(p.file + ": no tasks (only empty lines or # comments)");

  std::unordered_map<std::string, std::size_t> by_id;
  for (std::size_t i = 0; i < c.tasks.size(); ++i) {
    auto [it, inserted] = by_id.emplace(c.tasks[i].id, i);
    if (!inserted)
      p.add(c.tasks[i].line, "duplicate id " + quote(c.tasks[i].id) + " (first on line " +
                                 std::to_string(c.tasks[it->second].line) + ")");
  }
  c.depends.resize(c.tasks.size());
  for (std::size_t i = 0; i < c.tasks.size(); ++i)
    for (const auto& d : c.tasks[i].depends) {
      auto it = by_id.find(d);
      if (it == by_id.end())
        p.add(c.tasks[i].line, "depends on unknown id " + quote(d));
      else if (it->second == i)
        p.add(c.tasks[i].line, "depends on itself");
      else
        c.depends[i].push_back(it->second);
    }
  if (!p.list.empty()) p.raise();

  // Kahn's algorithm; what is left over lies on or behind a cycle.
  std::vector<std::size_t> indegree(c.tasks.size(), 0);
  std::vector<std::vector<std::size_t>> users(c.tasks.size());
  for (std::size_t i = 0; i < c.tasks.size(); ++i)
    for (std::size_t d : c.depends[i]) {
      ++indegree[i];
      users[d].push_back(i);
    }
  for (std::size_t i = 0; i < c.tasks.size(); ++i)
    if (indegree[i] == 0) c.order.push_back(i);
  for (std::size_t k = 0; k < c.order.size(); ++k)
    for (std::size_t u : users[c.order[k]])
      if (--indegree[u] == 0) c.order.push_back(u);
  if (c.order.size() != c.tasks.size()) {
    // Walk dependencies from a leftover task until one repeats: that loop is a cycle.
    std::size_t at = 0;
    while (indegree[at] == 0) ++at;
    std::vector<std::size_t> path;
    std::vector<int> seen(c.tasks.size(), -1);
    while (seen[at] < 0) {
      seen[at] = static_cast<int>(path.size());
      path.push_back(at);
      for (std::size_t d : c.depends[at])
        if (indegree[d] > 0) {
          at = d;
          break;
        }
    }
    // At most the first six links and the last one of a long cycle.
    std::string cycle;
    const std::size_t begin = static_cast<std::size_t>(seen[at]), length = path.size() - begin;
    for (std::size_t k = begin; k < path.size(); ++k) {
      if (length > 8 && k == begin + 6) {
        cycle += "... (" + std::to_string(length - 7) + " more) -> ";
        k = path.size() - 1;
      }
      cycle += quote(c.tasks[path[k]].id) + " (line " + std::to_string(c.tasks[path[k]].line) + ") -> ";
    }
    cycle += quote(c.tasks[at].id);
    p.add(c.tasks[at].line, "dependency cycle (each depends on the next): " + cycle);
    p.raise();
  }
  return c;
}

}  // namespace parsl::campaign
