#pragma once
/// @file
/// Checkpoint segment files: immutable HDF5 files of memo entries (content hash -> encoded
/// result). A run writes a new segment at each checkpoint and never changes one afterwards:
/// each is written under a temporary name, synced, then renamed, so a kill -9 at any moment
/// leaves only whole segments (and perhaps a stray .tmp file, which readers ignore).
///
/// Layout (read it with `h5dump`):
///   attributes  format = "parsl-mpi checkpoint", version = 1
///   /keys           uint64 [n][2]  content hash (high, low) of each entry
///   /value_offsets  uint64 [n+1]   entry i's bytes are values[offsets[i], offsets[i+1])
///   /values         uint8  [total] the encoded results, back to back

#include <filesystem>
#include <string>
#include <vector>

#include "parsl/serial/content_hash.hpp"
#include "parsl/serial/error.hpp"

namespace parsl {

/// A checkpoint file is missing, truncated, corrupt, of another format or version, or cannot
/// be written. The message names the file and the problem.
class CheckpointError : public Error {
 public:
  using Error::Error;
};

namespace serial {

struct CheckpointEntry {
  ContentHash key;
  std::string value;  ///< encoded result bytes
};

/// Format version written by this build.
inline constexpr int kCheckpointVersion = 1;

/// Writes `entries` as the segment `path` (via path + ".tmp", fsync, rename, fsync of the
/// folder). Throws CheckpointError. Not thread-safe for the same path.
void write_checkpoint_segment(const std::filesystem::path& path, const std::vector<CheckpointEntry>& entries);

/// Reads a whole segment. Throws CheckpointError naming `path` when it is not a readable
/// parsl-mpi checkpoint of a version this build knows.
std::vector<CheckpointEntry> read_checkpoint_segment(const std::filesystem::path& path);

}  // namespace serial
}  // namespace parsl
