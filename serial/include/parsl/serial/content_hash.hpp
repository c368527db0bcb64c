#pragma once
/// @file
/// 128-bit content hashes (XXH3-128), used as memoization and checkpoint keys.

#include <array>
#include <compare>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

namespace parsl::serial {

/// A 128-bit digest of some bytes. Equal bytes give equal digests on every machine (XXH3
/// defines its output independently of byte order). A fixed-size value, so it can be
/// stored as a key in a checkpoint file.
struct ContentHash {
  std::uint64_t high = 0;
  std::uint64_t low = 0;

  friend constexpr auto operator<=>(const ContentHash&, const ContentHash&) = default;
  /// 32 lower-case hex digits, high word first.
  std::string hex() const;
  template <class Archive>
  void serialize(Archive& ar) {
    ar(high, low);
  }
};

/// Incremental hasher: feed any number of byte ranges, then read the digest.
/// Not thread-safe; cheap to construct.
class ContentHasher {
 public:
  ContentHasher();
  ~ContentHasher();
  ContentHasher(const ContentHasher&) = delete;
  ContentHasher& operator=(const ContentHasher&) = delete;

  /// Adds `bytes`, preceded by its length, so that ("ab","c") and ("a","bc") differ.
  ContentHasher& add_field(std::string_view bytes);
  ContentHash digest() const;

 private:
  alignas(64) std::array<unsigned char, 640> state_;  // XXH3_state_t, kept opaque here
};

/// Digest of one byte range.
ContentHash hash_bytes(std::string_view bytes);

}  // namespace parsl::serial

template <>
struct std::hash<parsl::serial::ContentHash> {
  std::size_t operator()(const parsl::serial::ContentHash& h) const noexcept {
    return static_cast<std::size_t>(h.low ^ (h.high * 0x9E3779B97F4A7C15ull));
  }
};
