#include "checkpointer.hpp"

namespace parsl::detail {

std::size_t load_checkpoints(const std::vector<std::filesystem::path>& sources, MemoTable& memo) {
  std::size_t loaded = 0;
  for (const auto& source : sources) {
    std::vector<std::filesystem::path> segments;
    try {
      segments = serial::checkpoint_segments(source);
    } catch (const CheckpointError& e) {
      throw CheckpointError(std::string(e.what()) + "; nothing was run");
    }
    for (const auto& seg : segments) {
      std::vector<serial::CheckpointEntry> entries;
      try {
        entries = serial::read_checkpoint_segment(seg);
      } catch (const CheckpointError& e) {
        std::error_code ec;
        const bool there = std::filesystem::exists(std::filesystem::symlink_status(seg, ec));
        throw CheckpointError(std::string(e.what()) + "; nothing was run. " +
                              (there ? "Move that file aside to start from the other checkpoints (its tasks then "
                                       "run again), or leave it out of Config::checkpoint_files"
                                     : "Leave it out of Config::checkpoint_files, or give the right path"));
      }
      for (auto& entry : entries) {
        memo.store(entry.key, std::move(entry.value));
        ++loaded;
      }
    }
  }
  return loaded;
}

}  // namespace parsl::detail
