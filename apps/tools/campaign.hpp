#pragma once
// The task file of parsl-run: one shell command per line (tasks.txt), or one JSON object
// per line (tasks.jsonl) with an id, a command, dependencies, retries, walltime, inputs and
// outputs. Parsed and checked completely before any task runs.
#include <cstdint>
#include <istream>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "parsl/runtime/app_def.hpp"
#include "parsl/serial/error.hpp"
#include "parsl/serial/text.hpp"

namespace parsl::campaign {

/// The task file is wrong. The message lists every problem found, each with its line.
class CampaignError : public Error {
 public:
  using Error::Error;
};

struct Task {
  std::string id;       ///< text files: the line number
  std::string command;  ///< run with /bin/bash -c
  std::vector<std::string> depends;
  std::optional<int> retries;      ///< this task's own retry budget
  std::optional<double> walltime;  ///< seconds
  std::optional<int> cores;        ///< cores per rank
  std::optional<int> gpus;         ///< GPUs per rank
  std::optional<int> ranks;        ///< ranks for the MPI program it starts with $PARSL_MPI_PREFIX
  std::vector<std::string> inputs, outputs;
  int line = 0;
};

struct Campaign {
  std::vector<Task> tasks;                 ///< in file order
  std::vector<std::size_t> order;          ///< a dependency order (inputs before users)
  std::vector<std::vector<std::size_t>> depends;  ///< per task, indexes of its dependencies
};

enum class Format { text, json_lines };

/// Bounds on what a task file may hold, so that any input (a huge file, /dev/urandom, an
/// endless pipe) ends with a clear error in bounded memory.
struct Limits {
  std::size_t max_line_bytes = 1 << 20;   ///< one line, before any decoding
  std::size_t max_tasks = 10'000'000;     ///< tasks in one file
  std::size_t max_problems = 20;          ///< reading stops after this many problems
};

/// The longest command the system can start: Linux takes at most MAX_ARG_STRLEN (32 pages,
/// 128 KiB with the NUL) for one argument, and `/bin/bash -c COMMAND` passes it as one.
std::size_t max_command_bytes();

/// Longest walltime accepted, in seconds (the kernel's, a year). Longer ones are errors.
inline constexpr double kMaxWalltime = parsl::kMaxWalltime;

/// .json and .jsonl files are JSON lines; everything else is text.
Format format_of(const std::string& filename);

/// Reads and checks a whole task file. Throws CampaignError naming the file, and for each
/// problem its line and what is wrong: malformed JSON, JSON nested too deep, a number out of
/// range, a duplicate key, a missing or empty command, a command too long to start, a NUL
/// byte or other binary data, a key of the wrong type or unknown, a walltime that is not a
/// finite number of seconds up to kMaxWalltime, a duplicate id, an unknown dependency, a
/// dependency cycle. Quotes at most a short excerpt of any offending value; stops reading
/// at the first line over `limits.max_line_bytes`, after `limits.max_problems` problems or
/// past `limits.max_tasks` tasks.
Campaign parse(std::istream& in, const std::string& filename, Format format, const Limits& limits = {});

using parsl::excerpt;  // quotes in messages (parsl/serial/text.hpp)

}  // namespace parsl::campaign
