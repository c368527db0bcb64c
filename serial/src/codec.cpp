#include "parsl/serial/codec.hpp"

namespace parsl::serial {

void BufferInputArchive::fail_short(std::size_t size) const {
  throw SerializationError("truncated data: needed " + std::to_string(size) + " more bytes at offset " +
                           std::to_string(pos_) + " but only " + std::to_string(in_.size() - pos_) +
                           " remain");
}

void BufferInputArchive::fail_length(std::uint64_t n) const {
  throw SerializationError("malformed data: a length field at offset " + std::to_string(pos_) +
                           " says " + std::to_string(n) + " elements but only " +
                           std::to_string(in_.size() - pos_) + " bytes remain");
}

void BufferInputArchive::fail_bool(unsigned value) const {
  throw SerializationError("malformed data: a bool at offset " + std::to_string(pos_ - 1) + " holds " +
                           std::to_string(value) + ", not 0 or 1");
}

namespace detail {

void rethrow_decode_error(std::string_view what, const std::type_info& type, std::size_t size) {
  throw SerializationError("cannot decode a value of type " + demangle(type.name()) + " from " +
                           std::to_string(size) + " bytes: " + std::string(what));
}

void throw_trailing_bytes(const std::type_info& type, std::size_t extra, std::size_t size) {
  throw SerializationError("cannot decode a value of type " + demangle(type.name()) + " from " +
                           std::to_string(size) + " bytes: " + std::to_string(extra) +
                           " bytes left over (the data holds something else)");
}

}  // namespace detail
}  // namespace parsl::serial
