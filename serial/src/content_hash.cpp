#include "parsl/serial/content_hash.hpp"

#include <cstdio>
#include <new>

#define XXH_INLINE_ALL
#include <xxhash.h>

namespace parsl::serial {

static_assert(sizeof(XXH3_state_t) <= 640, "ContentHasher::state_ is too small for XXH3_state_t");
static_assert(alignof(XXH3_state_t) <= 64, "ContentHasher::state_ is under-aligned");

namespace {
XXH3_state_t* state_of(std::array<unsigned char, 640>& raw) {
  return std::launder(reinterpret_cast<XXH3_state_t*>(raw.data()));
}
const XXH3_state_t* state_of(const std::array<unsigned char, 640>& raw) {
  return std::launder(reinterpret_cast<const XXH3_state_t*>(raw.data()));
}
}  // namespace

std::string ContentHash::hex() const {
  char buf[33];
  std::snprintf(buf, sizeof buf, "%016llx%016llx", static_cast<unsigned long long>(high),
                static_cast<unsigned long long>(low));
  return buf;
}

ContentHasher::ContentHasher() {
  new (state_.data()) XXH3_state_t;
  XXH3_128bits_reset(state_of(state_));
}

ContentHasher::~ContentHasher() = default;

ContentHasher& ContentHasher::add_field(std::string_view bytes) {
  const std::uint64_t n = bytes.size();
  XXH3_128bits_update(state_of(state_), &n, sizeof n);
  XXH3_128bits_update(state_of(state_), bytes.data(), bytes.size());
  return *this;
}

ContentHash ContentHasher::digest() const {
  const XXH128_hash_t h = XXH3_128bits_digest(state_of(state_));
  return ContentHash{h.high64, h.low64};
}

ContentHash hash_bytes(std::string_view bytes) {
  const XXH128_hash_t h = XXH3_128bits(bytes.data(), bytes.size());
  return ContentHash{h.high64, h.low64};
}

}  // namespace parsl::serial
