#pragma once
// Internal: the checkpoint reader's parser over a whole segment image in memory, without
// the file system. read_checkpoint_segment uses it after reading a file; the fuzzing target
// calls it directly.
#include <filesystem>
#include <string_view>
#include <vector>

#include "parsl/serial/checkpoint_file.hpp"

namespace parsl::serial::detail {

/// Verifies `image` (header, length, checksum, layout) and returns its entries. Throws
/// CheckpointError naming `path`.
std::vector<CheckpointEntry> parse_checkpoint_image(std::string_view image, const std::filesystem::path& path);

}  // namespace parsl::serial::detail
