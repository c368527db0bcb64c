#pragma once
// The task file of parsl-run: one shell command per line (tasks.txt), or one JSON object
// per line (tasks.jsonl) with an id, a command, dependencies, retries, walltime, inputs and
// outputs. Parsed and checked completely before any task runs.
#include <cstdint>
#include <istream>
#include <optional>
#include <string>
#include <vector>

#include "parsl/serial/error.hpp"

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
  std::vector<std::string> inputs, outputs;
  int line = 0;
};

struct Campaign {
  std::vector<Task> tasks;                 ///< in file order
  std::vector<std::size_t> order;          ///< a dependency order (inputs before users)
  std::vector<std::vector<std::size_t>> depends;  ///< per task, indexes of its dependencies
};

enum class Format { text, json_lines };

/// .json and .jsonl files are JSON lines; everything else is text.
Format format_of(const std::string& filename);

/// Reads and checks a whole task file. Throws CampaignError naming the file, and for each
/// problem its line and what is wrong: malformed JSON, a missing or empty command, a key of
/// the wrong type or unknown, a duplicate id, an unknown dependency, a dependency cycle.
Campaign parse(std::istream& in, const std::string& filename, Format format);

}  // namespace parsl::campaign
