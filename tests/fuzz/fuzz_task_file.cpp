// Fuzzing target: parsl-run's task-file parser. The first byte picks the format (even: text,
// odd: JSON lines); the rest is the file. Any input must parse or be refused with
// CampaignError, in bounded memory; what parses must be a valid campaign.
#include <cstdint>
#include <sstream>
#include <string>

#include "mutate.hpp"
#include "campaign.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  using namespace parsl::campaign;
  const Format format = data[0] % 2 == 0 ? Format::text : Format::json_lines;
  std::istringstream in(std::string(reinterpret_cast<const char*>(data) + 1, size - 1));
  Limits limits;
  limits.max_line_bytes = 1 << 14;
  limits.max_tasks = 1000;
  try {
    const Campaign c = parse(in, "fuzz.tasks", format, limits);
    if (c.tasks.empty() || c.order.size() != c.tasks.size() || c.depends.size() != c.tasks.size())
      parsl::fuzz::fail("an accepted campaign has no tasks or an incomplete order");
    std::vector<bool> seen(c.tasks.size(), false);
    for (std::size_t i : c.order) {
      if (i >= c.tasks.size() || seen[i]) parsl::fuzz::fail("the order repeats or invents a task");
      for (std::size_t d : c.depends[i])
        if (d >= c.tasks.size() || !seen[d]) parsl::fuzz::fail("a task comes before one of its inputs");
      seen[i] = true;
    }
    for (const auto& t : c.tasks)
      if (t.command.empty() || t.command.find('\0') != std::string::npos ||
          t.command.size() > max_command_bytes())
        parsl::fuzz::fail("an accepted command is empty, holds a NUL or is too long to start");
  } catch (const CampaignError& e) {
    if (std::string(e.what()).size() > 64 * 1024) parsl::fuzz::fail("an error message over 64 KiB");
  }
  return 0;
}
