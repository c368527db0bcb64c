#pragma once
/// @file
/// Encoding of values to bytes and back with Cereal, straight into a `std::string` buffer.
///
/// Any type Cereal can serialize works: arithmetic types, the standard containers (after
/// including the matching `<cereal/types/...>` header, which this header does for the
/// common ones), and user types with a `template <class Archive> void serialize(Archive&)`
/// member. The encoding is Cereal's binary layout in the machine's byte order: equal
/// values give equal bytes on machines of the same architecture.
///
/// @code
///   std::string bytes = parsl::serial::encode(std::vector<int>{1, 2, 3});
///   auto v = parsl::serial::decode<std::vector<int>>(bytes);
/// @endcode

#include <algorithm>
#include <cstddef>
#include <cstring>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include <cereal/cereal.hpp>
#include <cereal/types/array.hpp>
#include <cereal/types/map.hpp>
#include <cereal/types/memory.hpp>
#include <cereal/types/optional.hpp>
#include <cereal/types/set.hpp>
#include <cereal/types/string.hpp>
#include <cereal/types/tuple.hpp>
#include <cereal/types/unordered_map.hpp>
#include <cereal/types/utility.hpp>
#include <cereal/types/variant.hpp>
#include <cereal/types/vector.hpp>

#include "parsl/serial/error.hpp"

namespace parsl::serial {

/// Cereal output archive that appends to a caller-owned `std::string`. No iostreams, no
/// copies: the bytes land in the buffer that is later sent or stored.
class BufferOutputArchive
    : public cereal::OutputArchive<BufferOutputArchive, cereal::AllowEmptyClassElision> {
 public:
  /// `out` must outlive the archive; bytes are appended to it.
  explicit BufferOutputArchive(std::string& out)
      : cereal::OutputArchive<BufferOutputArchive, cereal::AllowEmptyClassElision>(this),
        out_(out) {}
  /// Gathering: blobs of `threshold` bytes or more (a large argument's bytes) are not copied
  /// into `out` but listed in `external` as (their offset in the stream's `out`, their bytes),
  /// which must stay valid while the pieces are used (encode_gather).
  BufferOutputArchive(std::string& out, std::vector<std::pair<std::size_t, std::string_view>>& external,
                      std::size_t threshold)
      : BufferOutputArchive(out) {
    external_ = &external;
    threshold_ = threshold;
  }
  void save_binary(const void* data, std::size_t size) {
    if (external_ != nullptr && size >= threshold_) {
      external_->emplace_back(out_.size(), std::string_view(static_cast<const char*>(data), size));
      return;
    }
    if (size != 0) out_.append(static_cast<const char*>(data), size);  // data may be null then
  }

 private:
  std::string& out_;
  std::vector<std::pair<std::size_t, std::string_view>>* external_ = nullptr;
  std::size_t threshold_ = 0;
};

/// Cereal input archive over a borrowed byte range. Reading past the end, or a length
/// field larger than the bytes that remain, throws `SerializationError` instead of
/// reading out of bounds or allocating absurd amounts.
class BufferInputArchive
    : public cereal::InputArchive<BufferInputArchive, cereal::AllowEmptyClassElision> {
 public:
  /// The bytes must stay valid while the archive is used.
  explicit BufferInputArchive(std::string_view in)
      : cereal::InputArchive<BufferInputArchive, cereal::AllowEmptyClassElision>(this),
        in_(in) {}
  void load_binary(void* data, std::size_t size) {
    if (size > in_.size() - pos_) fail_short(size);
    if (size == 0) return;  // an empty vector's data() may be null: no memcpy from or to it
    std::memcpy(data, in_.data() + pos_, size);
    pos_ += size;
  }
  /// A container length must not exceed the bytes left: each element takes at least one
  /// byte, except elements of empty types, which we do not support inside containers.
  void check_length(std::uint64_t n) const {
    if (n > in_.size() - pos_) fail_length(n);
  }
  /// As check_length, for `n` elements of `element_bytes` bytes each on the wire.
  void check_bytes(std::uint64_t n, std::size_t element_bytes) const {
    if (element_bytes != 0 && n > (in_.size() - pos_) / element_bytes) fail_length(n);
  }
  /// A bool is one byte, 0 or 1; any other value is malformed (and loading it into a bool
  /// would be undefined behaviour).
  [[noreturn]] void fail_bool(unsigned value) const;
  std::size_t remaining() const { return in_.size() - pos_; }

 private:
  [[noreturn]] void fail_short(std::size_t size) const;
  [[noreturn]] void fail_length(std::uint64_t n) const;
  std::string_view in_;
  std::size_t pos_ = 0;
};

template <class T>
inline std::enable_if_t<std::is_arithmetic_v<T>> CEREAL_SAVE_FUNCTION_NAME(BufferOutputArchive& ar,
                                                                          const T& t) {
  ar.save_binary(std::addressof(t), sizeof(t));
}
template <class T>
inline std::enable_if_t<std::is_arithmetic_v<T> && !std::is_same_v<T, bool>> CEREAL_LOAD_FUNCTION_NAME(
    BufferInputArchive& ar, T& t) {
  ar.load_binary(std::addressof(t), sizeof(t));
}
inline void CEREAL_LOAD_FUNCTION_NAME(BufferInputArchive& ar, bool& t) {
  unsigned char byte = 0;
  ar.load_binary(&byte, 1);
  if (byte > 1) ar.fail_bool(byte);
  t = byte == 1;
}
static_assert(sizeof(bool) == 1, "the wire format stores a bool in one byte");

// Sequences are decoded element by element, so that memory grows only with the elements
// that the input really holds. Cereal's own loaders resize to the length field first: a
// message of N bytes could then allocate N times the size of an element (about 140 N for
// a batch of tasks) before failing.
namespace detail {
template <class Seq>
void load_sequence(BufferInputArchive& ar, Seq& seq) {
  using T = typename Seq::value_type;
  cereal::size_type n = 0;
  ar(cereal::make_size_tag(n));
  seq.clear();
  if (n == 0) return;
  // Room for n elements, but never more than 4 bytes of memory per byte left: that covers
  // real messages (a task takes over a quarter of sizeof(TaskMsg) on the wire) without
  // regrowth, and a lying length field gets no more than 4 times the input.
  seq.reserve(static_cast<std::size_t>(std::min<cereal::size_type>(n, 4 * ar.remaining() / sizeof(T))));
  for (cereal::size_type i = 0; i < n; ++i) {
    if constexpr (std::is_same_v<T, bool>) {
      bool b = false;
      ar(b);
      seq.push_back(b);
    } else {
      ar(seq.emplace_back());  // decoded in place: no temporary to move
    }
  }
}
}  // namespace detail
template <class T, class A>
inline void CEREAL_LOAD_FUNCTION_NAME(BufferInputArchive& ar, std::vector<T, A>& v) {
  if constexpr (std::is_arithmetic_v<T> && !std::is_same_v<T, bool>) {
    cereal::size_type n = 0;
    ar(cereal::make_size_tag(n));
    ar.check_bytes(n, sizeof(T));
    v.resize(static_cast<std::size_t>(n));
    ar.load_binary(v.data(), static_cast<std::size_t>(n) * sizeof(T));
  } else {
    detail::load_sequence(ar, v);
  }
}
template <class A>
inline void CEREAL_LOAD_FUNCTION_NAME(BufferInputArchive& ar, std::vector<bool, A>& v) {
  detail::load_sequence(ar, v);
}
template <class T>
inline void CEREAL_SERIALIZE_FUNCTION_NAME(BufferOutputArchive& ar, cereal::NameValuePair<T>& t) {
  ar(t.value);
}
template <class T>
inline void CEREAL_SERIALIZE_FUNCTION_NAME(BufferInputArchive& ar, cereal::NameValuePair<T>& t) {
  ar(t.value);
}
template <class T>
inline void CEREAL_SERIALIZE_FUNCTION_NAME(BufferOutputArchive& ar, cereal::SizeTag<T>& t) {
  ar(t.size);
}
template <class T>
inline void CEREAL_SERIALIZE_FUNCTION_NAME(BufferInputArchive& ar, cereal::SizeTag<T>& t) {
  ar(t.size);
  ar.check_length(static_cast<std::uint64_t>(t.size));
}
template <class T>
inline void CEREAL_SAVE_FUNCTION_NAME(BufferOutputArchive& ar, const cereal::BinaryData<T>& bd) {
  ar.save_binary(bd.data, static_cast<std::size_t>(bd.size));
}
template <class T>
inline void CEREAL_LOAD_FUNCTION_NAME(BufferInputArchive& ar, cereal::BinaryData<T>& bd) {
  ar.load_binary(bd.data, static_cast<std::size_t>(bd.size));
}

namespace detail {
// Cereal declares every std::tuple, std::vector, ... serializable whatever its elements, and
// fails only deep inside an instantiation. Look inside the standard containers ourselves.
template <class T>
struct deep_serializable {
  static constexpr bool value = cereal::traits::is_output_serializable<T, BufferOutputArchive>::value &&
                                cereal::traits::is_input_serializable<T, BufferInputArchive>::value;
};
template <class... T>
struct deep_serializable<std::tuple<T...>> {
  static constexpr bool value = (deep_serializable<T>::value && ...);
};
template <class A, class B>
struct deep_serializable<std::pair<A, B>> {
  static constexpr bool value = deep_serializable<A>::value && deep_serializable<B>::value;
};
template <class T, class A>
struct deep_serializable<std::vector<T, A>> : deep_serializable<T> {};
template <class T, std::size_t N>
struct deep_serializable<std::array<T, N>> : deep_serializable<T> {};
template <class T>
struct deep_serializable<std::optional<T>> : deep_serializable<T> {};
template <class T>
struct deep_serializable<std::shared_ptr<T>> : deep_serializable<T> {};
template <class T, class D>
struct deep_serializable<std::unique_ptr<T, D>> : deep_serializable<T> {};
template <class T, class C, class A>
struct deep_serializable<std::set<T, C, A>> : deep_serializable<T> {};
template <class K, class V, class C, class A>
struct deep_serializable<std::map<K, V, C, A>> {
  static constexpr bool value = deep_serializable<K>::value && deep_serializable<V>::value;
};
template <class K, class V, class H, class E, class A>
struct deep_serializable<std::unordered_map<K, V, H, E, A>> {
  static constexpr bool value = deep_serializable<K>::value && deep_serializable<V>::value;
};
template <class... T>
struct deep_serializable<std::variant<T...>> {
  static constexpr bool value = (deep_serializable<T>::value && ...);
};
}  // namespace detail

/// True when `T` can be encoded and decoded by the archives above (looking inside the
/// standard containers, tuples and pairs).
template <class T>
inline constexpr bool is_serializable_v = detail::deep_serializable<std::remove_cv_t<T>>::value;

/// Appends the encoding of `value` to `out`.
template <class T>
void encode_into(std::string& out, const T& value) {
  BufferOutputArchive ar(out);
  ar(value);
}

/// Returns the encoding of `value`.
template <class T>
std::string encode(const T& value) {
  std::string out;
  encode_into(out, value);
  return out;
}

/// An encoding in pieces: the bytes of `value`'s encoding are `head` with each external blob
/// inserted at its offset. The blobs point into `value`, which must outlive the pieces.
struct Gathered {
  std::string head;
  std::vector<std::pair<std::size_t, std::string_view>> external;
  std::size_t size() const noexcept {
    std::size_t n = head.size();
    for (const auto& e : external) n += e.second.size();
    return n;
  }
};
/// encode(value) without copying blobs of `threshold` bytes or more (for sending with a
/// gathering send).
template <class T>
Gathered encode_gather(const T& value, std::size_t threshold) {
  Gathered g;
  BufferOutputArchive ar(g.head, g.external, threshold);
  ar(value);
  return g;
}

namespace detail {
[[noreturn]] void rethrow_decode_error(std::string_view what, const std::type_info& type,
                                       std::size_t size);
[[noreturn]] void throw_trailing_bytes(const std::type_info& type, std::size_t extra,
                                       std::size_t size);
}  // namespace detail

/// Decodes a `T` from exactly the bytes in `bytes`. Throws `SerializationError` naming the
/// type when the bytes are truncated, too long, or otherwise not an encoding of a `T`.
template <class T>
T decode(std::string_view bytes) {
  T value{};
  std::size_t left = 0;
  try {
    BufferInputArchive ar(bytes);
    ar(value);
    left = ar.remaining();
  } catch (const std::exception& e) {
    detail::rethrow_decode_error(e.what(), typeid(T), bytes.size());
  }
  if (left != 0) detail::throw_trailing_bytes(typeid(T), left, bytes.size());
  return value;
}

}  // namespace parsl::serial

CEREAL_REGISTER_ARCHIVE(parsl::serial::BufferOutputArchive)
CEREAL_REGISTER_ARCHIVE(parsl::serial::BufferInputArchive)
CEREAL_SETUP_ARCHIVE_TRAITS(parsl::serial::BufferInputArchive, parsl::serial::BufferOutputArchive)
