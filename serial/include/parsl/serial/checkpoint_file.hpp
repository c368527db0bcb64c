#pragma once
/// @file
/// Checkpoint segment files: immutable HDF5 files of memo entries (content hash -> encoded
/// result). A run writes a new segment at each checkpoint and never changes one afterwards:
/// each is written under a temporary name, synced, then renamed, so a kill -9 at any moment
/// leaves only whole segments (and perhaps a stray .tmp file, which readers ignore).
///
/// Layout (read it with `h5dump`; the HDF5 part is version 1's):
///   attributes  format = "parsl-mpi checkpoint", version = 2
///   /keys           uint64 LE [n][2]  content hash (high, low) of each entry
///   /value_offsets  uint64 LE [n+1]   entry i's bytes are values[offsets[i], offsets[i+1])
///   /values         uint8     [total] the encoded results, back to back
/// plus, in the HDF5 user block (the first 512 bytes, which HDF5 tools skip), a header that
/// gives the file's length, the entry count, where each dataset's bytes lie in the file, and
/// an XXH3-128 checksum of every other byte of the file. A reader checks the header and the
/// checksum first and then takes the three arrays straight from their recorded places, with
/// every offset bounded by the file: the HDF5 library never parses a file on the read path,
/// so no damaged, truncated or hostile file can reach its parser. docs/design.md has the
/// field-by-field header.

#include <filesystem>
#include <string>
#include <vector>

#include "parsl/serial/content_hash.hpp"
#include "parsl/serial/error.hpp"

namespace parsl {

/// A checkpoint file is missing, truncated, altered, corrupt, not a regular file, of another
/// format or version, or cannot be written. The message names the file and the problem.
class CheckpointError : public Error {
 public:
  using Error::Error;
};

namespace serial {

struct CheckpointEntry {
  ContentHash key;
  std::string value;  ///< encoded result bytes
};

/// Format version written (and the only one read) by this build. Version 1 had no header
/// and no checksum; its files are refused with a message that says so.
inline constexpr int kCheckpointVersion = 2;

/// Size of the header in the HDF5 user block at the start of every segment.
inline constexpr std::size_t kCheckpointHeaderSize = 512;

/// Writes `entries` as the segment `path` (via path + ".tmp", fsync, rename, fsync of the
/// folder). Throws CheckpointError. Thread-safe for different paths.
void write_checkpoint_segment(const std::filesystem::path& path, const std::vector<CheckpointEntry>& entries);

/// Reads and verifies a whole segment. Throws CheckpointError naming `path` and the problem
/// when it is not a regular, readable, unaltered parsl-mpi checkpoint of this version (a
/// FIFO, a directory, a symbolic-link loop, an over-long path: each gets its own message;
/// none blocks). Allocates a few times the file's size at most, never by a count read from
/// the file. Thread-safe.
std::vector<CheckpointEntry> read_checkpoint_segment(const std::filesystem::path& path);

/// The segments under `source`, sorted by name: the `.h5` files directly in it when it is a
/// folder, else `source` itself (the reader then reports a missing or bad file by name).
/// Throws CheckpointError when the folder cannot be listed (unreadable, a symbolic-link loop).
std::vector<std::filesystem::path> checkpoint_segments(const std::filesystem::path& source);

/// `path` for an error message: at most about 200 characters (the start and the end of a
/// longer one, with how many characters were left out).
std::string bounded_path(const std::filesystem::path& path);

}  // namespace serial
}  // namespace parsl
