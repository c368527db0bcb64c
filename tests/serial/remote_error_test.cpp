#include <gtest/gtest.h>

#include <stdexcept>

#include "parsl/serial/codec.hpp"
#include "parsl/serial/remote_error.hpp"

TEST(RemoteError, NamesTheTypeAndMessageAndHost) {
  auto e = std::make_exception_ptr(std::invalid_argument("bad seed"));
  auto r = parsl::serial::RemoteError::from_exception(e, 3);
  EXPECT_EQ(r.type_name, "std::invalid_argument");
  EXPECT_EQ(r.message, "bad seed");
  EXPECT_EQ(r.rank, 3);
  EXPECT_FALSE(r.host.empty());
  auto back = parsl::serial::decode<parsl::serial::RemoteError>(parsl::serial::encode(r));
  EXPECT_EQ(back.type_name, r.type_name);
  EXPECT_EQ(back.message, r.message);
  EXPECT_EQ(back.host, r.host);
}

TEST(RemoteError, NonStdExceptionsAreDescribed) {
  auto r = parsl::serial::RemoteError::from_exception(std::make_exception_ptr(42));
  EXPECT_EQ(r.type_name, "int");
}
