// Fuzzing target: the decoders of everything that crosses the wire. Any input must decode or
// be refused with ProtocolError / SerializationError; what decodes must encode again to bytes
// that decode to the same message (no state that encoding loses).
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

#include "mutate.hpp"
#include "parsl/mpi_exec/protocol.hpp"
#include "parsl/serial/codec.hpp"
#include "parsl/serial/remote_error.hpp"

namespace {
// A bool field holds 0 or 1 in memory (anything else is undefined behaviour to use).
void check_bool(const bool& b) {
  unsigned char raw = 0;
  std::memcpy(&raw, &b, 1);
  if (raw > 1) parsl::fuzz::fail("a decoded bool holds neither 0 nor 1");
}
void check_bools(const parsl::mpi::DownMsg& m) {
  for (const auto& t : m.tasks) check_bool(t.isolate);
}
void check_bools(const parsl::mpi::UpMsg& m) { check_bool(m.bye); }
void check_bools(const parsl::mpi::ShareMsg&) {}

template <class Decode>
void round_trip(std::string_view bytes, Decode decode) {
  using parsl::mpi::encode;
  try {
    const auto message = decode(bytes);
    check_bools(message);
    const auto once = encode(message);
    const auto twice = encode(decode(once));
    if (once != twice) parsl::fuzz::fail("a decoded message encodes differently the second time");
  } catch (const parsl::mpi::ProtocolError&) {
  }
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);
  round_trip(bytes, [](std::string_view b) { return parsl::mpi::decode_down(b, 1); });
  round_trip(bytes, [](std::string_view b) { return parsl::mpi::decode_up(b, 1); });
  round_trip(bytes, [](std::string_view b) { return parsl::mpi::decode_share(b, 1); });
  try {
    const auto e = parsl::serial::decode<parsl::serial::RemoteError>(bytes);
    if (parsl::serial::encode(e) != bytes) parsl::fuzz::fail("a RemoteError encodes to other bytes than it came from");
  } catch (const parsl::SerializationError&) {
  }
  return 0;
}
