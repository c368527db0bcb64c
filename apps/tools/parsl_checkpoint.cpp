// parsl-checkpoint: look into and combine checkpoint segments.
//
//   parsl-checkpoint list  PATH...        one line per segment: path, entries, bytes of results
//   parsl-checkpoint count PATH...        distinct results over all segments
//   parsl-checkpoint merge OUT PATH...    one segment OUT with every distinct result
//
// PATH is a segment (.h5) or a folder of them (runinfo/NNN/checkpoint). A bad file is
// reported by name and gives exit status 1; a bad command line gives 2.
#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <string>
#include <unordered_set>
#include <vector>

#include "parsl/serial/checkpoint_file.hpp"

namespace fs = std::filesystem;
using parsl::serial::CheckpointEntry;

namespace {

int usage(const char* why) {
  std::fprintf(stderr, "parsl-checkpoint: %s\nusage: parsl-checkpoint list|count PATH... | merge OUT PATH...\n", why);
  return 2;
}

std::vector<fs::path> segments_of(const std::vector<std::string>& paths) {
  std::vector<fs::path> out;
  for (const auto& p : paths) {
    auto in = parsl::serial::checkpoint_segments(p);
    out.insert(out.end(), in.begin(), in.end());
  }
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 3) return usage("missing arguments");
  const std::string cmd = argv[1];
  if (cmd != "list" && cmd != "count" && cmd != "merge") return usage(("unknown command '" + cmd + "'").c_str());
  const int first = cmd == "merge" ? 3 : 2;
  if (argc <= first) return usage("no checkpoint given");
  const std::vector<std::string> paths(argv + first, argv + argc);
  try {
    std::vector<CheckpointEntry> merged;
    std::unordered_set<parsl::serial::ContentHash> seen;
    for (const auto& seg : segments_of(paths)) {
      auto entries = parsl::serial::read_checkpoint_segment(seg);
      if (cmd == "list") {
        std::size_t bytes = 0;
        for (const auto& e : entries) bytes += e.value.size();
        std::printf("%s\t%zu entries\t%zu bytes\n", seg.c_str(), entries.size(), bytes);
      }
      for (auto& e : entries)
        if (seen.insert(e.key).second) merged.push_back(std::move(e));
    }
    if (cmd == "count") std::printf("%zu\n", merged.size());
    if (cmd == "merge") {
      parsl::serial::write_checkpoint_segment(argv[2], merged);
      std::printf("%s: %zu distinct results\n", argv[2], merged.size());
    }
  } catch (const parsl::Error& e) {
    std::fprintf(stderr, "parsl-checkpoint: %s\n", e.what());
    return 1;
  }
  return 0;
}
