// Fuzzing target: the checkpoint segment reader, on whole file images. Any input must be read
// or be refused with CheckpointError, and an accepted image gives no more bytes than it
// holds. Each input is tried twice: as it is (almost every mutant then fails the checksum),
// and with its checksum recomputed, as a hostile file would carry, so that the layout checks
// behind the checksum are fuzzed too.
#include <cstdint>
#include <string>
#include <string_view>

#define XXH_INLINE_ALL
#include <xxhash.h>

#include "checkpoint_image.hpp"
#include "mutate.hpp"

namespace {
void read(std::string_view image) {
  try {
    const auto entries = parsl::serial::detail::parse_checkpoint_image(image, "fuzz.h5");
    std::size_t bytes = 0;
    for (const auto& e : entries) bytes += 16 + e.value.size();
    if (bytes > image.size()) parsl::fuzz::fail("more came out of a checkpoint image than it holds");
  } catch (const parsl::CheckpointError&) {
  }
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view image(reinterpret_cast<const char*>(data), size);
  read(image);
  if (size >= parsl::serial::kCheckpointHeaderSize) {
    std::string forged(image);
    for (int i = 64; i < 80; ++i) forged[static_cast<std::size_t>(i)] = 0;  // the checksum field
    const XXH128_hash_t h = XXH3_128bits(forged.data(), forged.size());
    for (int i = 0; i < 8; ++i) forged[static_cast<std::size_t>(64 + i)] = static_cast<char>(h.high64 >> (8 * i));
    for (int i = 0; i < 8; ++i) forged[static_cast<std::size_t>(72 + i)] = static_cast<char>(h.low64 >> (8 * i));
    read(forged);
  }
  return 0;
}
