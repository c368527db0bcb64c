#include "campaign.hpp"

#include <algorithm>
#include <unordered_map>

#include <nlohmann/json.hpp>

#include "parsl/runtime/file.hpp"

namespace parsl::campaign {

Format format_of(const std::string& filename) {
  auto ends = [&](const std::string& s) {
    return filename.size() >= s.size() && filename.compare(filename.size() - s.size(), s.size(), s) == 0;
  };
  return ends(".jsonl") || ends(".json") ? Format::json_lines : Format::text;
}

namespace {

constexpr std::size_t kMaxProblemsShown = 20;

struct Problems {
  std::string file;
  std::vector<std::string> list;
  std::vector<int> lines;
  void add(int line, const std::string& what) {
    list.push_back(file + ":" + std::to_string(line) + ": " + what);
    lines.push_back(line);
  }
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
                    (list.size() == 1 ? "" : "s") + "; no task was run):";
    for (std::size_t i = 0; i < list.size() && i < kMaxProblemsShown; ++i) m += "\n  " + list[i];
    if (list.size() > kMaxProblemsShown) m += "\n  ... and " + std::to_string(list.size() - kMaxProblemsShown) + " more";
    throw CampaignError(m);
  }
};

std::vector<std::string> string_list(const nlohmann::json& v, const char* key, int line, Problems& p, bool& ok) {
  std::vector<std::string> out;
  if (!v.is_array()) {
    p.add(line, std::string("\"") + key + "\" must be an array of strings");
    ok = false;
    return out;
  }
  for (const auto& e : v) {
    if (e.is_string()) {
      out.push_back(e.get<std::string>());
    } else if (e.is_number_integer() && std::string(key) == "depends") {
      out.push_back(std::to_string(e.get<long long>()));
    } else {
      p.add(line, std::string("\"") + key + "\" holds " + e.dump() + ", not a string");
      ok = false;
    }
  }
  return out;
}

std::optional<Task> parse_json_line(const std::string& text, int line, Problems& p) {
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(text);
  } catch (const nlohmann::json::parse_error& e) {
    std::string what = e.what();
    // nlohmann's text starts with "[json.exception.parse_error.101] parse error at line 1, ..."
    const auto at = what.find("] ");
    p.add(line, "malformed JSON: " + (at == std::string::npos ? what : what.substr(at + 2)));
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
      if (v.is_string() && !v.get<std::string>().empty())
        t.id = v.get<std::string>();
      else if (v.is_number_integer())
        t.id = std::to_string(v.get<long long>());
      else {
        p.add(line, "\"id\" must be a non-empty string or an integer, got " + v.dump());
        ok = false;
      }
    } else if (k == "command") {
      if (v.is_string() && !v.get<std::string>().empty())
        t.command = v.get<std::string>();
      else {
        p.add(line, "\"command\" must be a non-empty string, got " + v.dump());
        ok = false;
      }
    } else if (k == "depends") {
      t.depends = string_list(v, "depends", line, p, ok);
    } else if (k == "retries") {
      if (v.is_number_integer() && v.get<long long>() >= 0 && v.get<long long>() <= 1000)
        t.retries = static_cast<int>(v.get<long long>());
      else {
        p.add(line, "\"retries\" must be a whole number from 0 to 1000, got " + v.dump());
        ok = false;
      }
    } else if (k == "walltime") {
      if (v.is_number() && v.get<double>() > 0)
        t.walltime = v.get<double>();
      else {
        p.add(line, "\"walltime\" must be a number of seconds > 0, got " + v.dump());
        ok = false;
      }
    } else if (k == "inputs" || k == "outputs") {
      auto files = string_list(v, k.c_str(), line, p, ok);
      for (const auto& f : files) {
        try {
          (void)File(f);
        } catch (const Error& e) {
          p.add(line, "\"" + k + "\": " + e.what());
          ok = false;
        }
      }
      (k == "inputs" ? t.inputs : t.outputs) = std::move(files);
    } else {
      p.add(line, "unknown key \"" + k + "\" (known: id, command, depends, retries, walltime, inputs, outputs)");
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

}  // namespace

Campaign parse(std::istream& in, const std::string& filename, Format format) {
  Problems p{filename, {}};
  Campaign c;
  std::string text;
  int line = 0;
  while (std::getline(in, text)) {
    ++line;
    if (!text.empty() && text.back() == '\r') text.pop_back();
    const auto first = text.find_first_not_of(" \t");
    if (first == std::string::npos || text[first] == '#') continue;
    if (format == Format::text) {
      c.tasks.push_back(Task{std::to_string(line), text.substr(first), {}, {}, {}, {}, {}, line});
    } else if (auto t = parse_json_line(text, line, p)) {
      c.tasks.push_back(std::move(*t));
    }
  }
  if (in.bad()) throw CampaignError("cannot read the task file " + filename);
  if (c.tasks.empty() && p.list.empty()) p.list.push_back(filename + ": no tasks (only empty lines or # comments)");

  std::unordered_map<std::string, std::size_t> by_id;
  for (std::size_t i = 0; i < c.tasks.size(); ++i) {
    auto [it, inserted] = by_id.emplace(c.tasks[i].id, i);
    if (!inserted)
      p.add(c.tasks[i].line, "duplicate id \"" + c.tasks[i].id + "\" (first on line " +
                                 std::to_string(c.tasks[it->second].line) + ")");
  }
  c.depends.resize(c.tasks.size());
  for (std::size_t i = 0; i < c.tasks.size(); ++i)
    for (const auto& d : c.tasks[i].depends) {
      auto it = by_id.find(d);
      if (it == by_id.end())
        p.add(c.tasks[i].line, "depends on unknown id \"" + d + "\"");
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
    std::string cycle;
    for (std::size_t k = static_cast<std::size_t>(seen[at]); k < path.size(); ++k)
      cycle += "\"" + c.tasks[path[k]].id + "\" (line " + std::to_string(c.tasks[path[k]].line) + ") -> ";
    cycle += "\"" + c.tasks[at].id + "\"";
    p.add(c.tasks[at].line, "dependency cycle (each depends on the next): " + cycle);
    p.raise();
  }
  return c;
}

}  // namespace parsl::campaign
