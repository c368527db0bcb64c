#include <gtest/gtest.h>

#include <unordered_set>

#include "parsl/serial/content_hash.hpp"

using parsl::serial::ContentHasher;
using parsl::serial::hash_bytes;

TEST(ContentHash, IsStableAcrossRunsAndMachines) {
  // XXH3-128 of the empty input is fixed by its specification; a key written by one run
  // must be found by the next.
  EXPECT_EQ(hash_bytes("").hex(), "99aa06d3014798d86001c324468d497f");
  EXPECT_EQ(hash_bytes("abc"), hash_bytes("abc"));
  EXPECT_NE(hash_bytes("abc"), hash_bytes("abd"));
}

TEST(ContentHash, FieldBoundariesMatter) {
  ContentHasher a, b;
  a.add_field("ab").add_field("c");
  b.add_field("a").add_field("bc");
  EXPECT_NE(a.digest(), b.digest());
  ContentHasher c;
  c.add_field("ab").add_field("c");
  EXPECT_EQ(a.digest(), c.digest());
}

TEST(ContentHash, UsableAsHashKey) {
  std::unordered_set<parsl::serial::ContentHash> set;
  for (int i = 0; i < 1000; ++i) set.insert(hash_bytes(std::to_string(i)));
  EXPECT_EQ(set.size(), 1000u);
}
