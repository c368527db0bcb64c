#include <gtest/gtest.h>

#include <map>
#include <string>
#include <tuple>
#include <vector>

#include "parsl/serial/codec.hpp"
#include "parsl/serial/text.hpp"

namespace {

struct Particle {
  double x = 0, y = 0;
  std::string name;
  std::vector<int> tags;
  template <class Archive>
  void serialize(Archive& ar) {
    ar(x, y, name, tags);
  }
  bool operator==(const Particle&) const = default;
};

using parsl::SerializationError;
using parsl::serial::decode;
using parsl::serial::encode;

TEST(Codec, RoundTripsStandardAndUserTypes) {
  const std::tuple<int, double, std::string, std::vector<std::uint8_t>, std::map<std::string, int>> v{
      -7, 2.5, "hello", {1, 2, 3}, {{"a", 1}, {"b", 2}}};
  EXPECT_EQ(decode<std::remove_const_t<decltype(v)>>(encode(v)), v);
  const Particle p{1.5, -2.0, "electron", {4, 5}};
  EXPECT_EQ(decode<Particle>(encode(p)), p);
}

TEST(Codec, EqualValuesGiveEqualBytes) {
  EXPECT_EQ(encode(std::vector<int>{1, 2, 3}), encode(std::vector<int>{1, 2, 3}));
  EXPECT_NE(encode(std::vector<int>{1, 2, 3}), encode(std::vector<int>{1, 2, 4}));
}

TEST(Codec, TruncatedDataIsAClearError) {
  const std::string bytes = encode(std::string("a fairly long string value"));
  for (std::size_t n = 0; n < bytes.size(); ++n) {
    try {
      (void)decode<std::string>(std::string_view(bytes).substr(0, n));
      FAIL() << "decoding " << n << " of " << bytes.size() << " bytes must fail";
    } catch (const SerializationError& e) {
      EXPECT_NE(std::string(e.what()).find("std::__cxx11::basic_string"), std::string::npos) << e.what();
    }
  }
}

TEST(Codec, AbsurdLengthFieldIsRejectedWithoutAllocating) {
  std::string bytes = encode(std::uint64_t{1} << 60);  // a vector length of 2^60, no elements
  try {
    (void)decode<std::vector<double>>(bytes);
    FAIL() << "must fail";
  } catch (const SerializationError& e) {
    EXPECT_NE(std::string(e.what()).find("length field"), std::string::npos) << e.what();
  }
}

TEST(Codec, TrailingBytesMeanTheWrongType) {
  const std::string bytes = encode(std::pair<int, int>{1, 2});
  EXPECT_THROW((void)decode<int>(bytes), SerializationError);
}

TEST(Codec, SerializableTrait) {
  static_assert(parsl::serial::is_serializable_v<Particle>);
  static_assert(parsl::serial::is_serializable_v<std::vector<std::string>>);
  struct Opaque {
    int* p;
  };
  static_assert(!parsl::serial::is_serializable_v<Opaque>);
}

}  // namespace

namespace {
TEST(Text, ExcerptsAreShortPrintableAndSayHowLongTheTextWas) {
  EXPECT_EQ(parsl::excerpt("short"), "short");
  const std::string e = parsl::excerpt(std::string(100000, 'x'));
  EXPECT_LT(e.size(), 100u);
  EXPECT_NE(e.find("(100000 bytes in all)"), std::string::npos) << e;
  EXPECT_EQ(parsl::excerpt(std::string("a\0b\x1b\xff", 5)), "a\\x00b\\x1b\\xff");
  EXPECT_EQ(parsl::excerpt("Grüße"), "Grüße");  // UTF-8 stays as it is
  EXPECT_EQ(parsl::utf8_length("\xc0\x80", 0), 0u);  // an overlong NUL is not UTF-8
  EXPECT_EQ(parsl::utf8_length("\xed\xa0\x80", 0), 0u);  // nor a surrogate
}
}  // namespace
