#include <gtest/gtest.h>

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "parsl/serial/checkpoint_file.hpp"

#define XXH_INLINE_ALL
#include <xxhash.h>

namespace {

namespace fs = std::filesystem;
using parsl::CheckpointError;
using parsl::serial::CheckpointEntry;
using parsl::serial::hash_bytes;
using parsl::serial::read_checkpoint_segment;
using parsl::serial::write_checkpoint_segment;

fs::path scratch(const std::string& name) {
  const fs::path dir = fs::temp_directory_path() / ("parsl-ckpt-" + std::to_string(::getpid()));
  fs::create_directories(dir);
  return dir / name;
}

std::string error_of(const fs::path& p) {
  try {
    (void)read_checkpoint_segment(p);
  } catch (const CheckpointError& e) {
    return e.what();
  }
  return "no error";
}

TEST(CheckpointFile, RoundTripsEntriesWithBinaryValues) {
  const auto p = scratch("seg-000001.h5");
  std::vector<CheckpointEntry> in = {{hash_bytes("a"), std::string("\0\1\2 result", 11)},
                                     {hash_bytes("b"), ""},
                                     {hash_bytes("c"), std::string(100000, 'x')}};
  write_checkpoint_segment(p, in);
  EXPECT_FALSE(fs::exists(p.string() + ".tmp"));  // renamed into place
  const auto out = read_checkpoint_segment(p);
  ASSERT_EQ(out.size(), 3u);
  for (std::size_t i = 0; i < 3; ++i) {
    EXPECT_EQ(out[i].key, in[i].key);
    EXPECT_EQ(out[i].value, in[i].value);
  }
  write_checkpoint_segment(scratch("empty.h5"), {});
  EXPECT_TRUE(read_checkpoint_segment(scratch("empty.h5")).empty());
}

TEST(CheckpointFile, ReadableWithH5dump) {
  const auto p = scratch("dump.h5");
  write_checkpoint_segment(p, {{hash_bytes("k"), "v"}});
  const std::string cmd = "h5dump -H " + p.string() + " > " + scratch("dump.txt").string() + " 2>&1";
  ASSERT_EQ(std::system(cmd.c_str()), 0);
  std::ifstream in(scratch("dump.txt"));
  const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  for (const char* s : {"\"keys\"", "\"value_offsets\"", "\"values\"", "\"format\"", "\"version\""})
    EXPECT_NE(text.find(s), std::string::npos) << s << " missing in:\n" << text;
  // The data too, past the user block that holds our header: "v" is 118.
  const std::string data_cmd = "h5dump -d /values " + p.string() + " > " + scratch("dump.txt").string() + " 2>&1";
  ASSERT_EQ(std::system(data_cmd.c_str()), 0);
  std::ifstream data(scratch("dump.txt"));
  const std::string values((std::istreambuf_iterator<char>(data)), std::istreambuf_iterator<char>());
  EXPECT_NE(values.find("(0): 118"), std::string::npos) << values;
}

TEST(CheckpointFile, TruncatedCorruptAndForeignFilesAreNamed) {
  const auto good = scratch("good.h5");
  write_checkpoint_segment(good, {{hash_bytes("a"), "1"}, {hash_bytes("b"), "2"}});
  const auto size = fs::file_size(good);
  for (std::uintmax_t keep : {std::uintmax_t{0}, std::uintmax_t{8}, std::uintmax_t{512}, size / 2, size - 1}) {
    const auto cut = scratch("cut.h5");
    fs::copy_file(good, cut, fs::copy_options::overwrite_existing);
    fs::resize_file(cut, keep);
    const std::string e = error_of(cut);
    EXPECT_NE(e.find("checkpoint file " + cut.string()), std::string::npos) << "kept " << keep << ": " << e;
    EXPECT_TRUE(e.find("too short") != std::string::npos || e.find("truncated") != std::string::npos) << e;
  }
  {
    std::ofstream(good, std::ios::app) << "appended";
    EXPECT_NE(error_of(good).find("truncated or appended to"), std::string::npos);
  }
  const auto text = scratch("notes.txt");
  std::ofstream(text) << std::string(2000, 'x');
  EXPECT_NE(error_of(text).find("is not a parsl-mpi checkpoint segment"), std::string::npos) << error_of(text);
  EXPECT_NE(error_of(scratch("missing.h5")).find("does not exist"), std::string::npos);
}

std::string bytes_of(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}
void write_bytes(const fs::path& p, const std::string& b) { std::ofstream(p, std::ios::binary | std::ios::trunc) << b; }

// Today's promise: no byte of a segment can change without the reader refusing the file. A
// one-byte change inside the stored values was once served as a memo_done result.
TEST(CheckpointFile, EveryAlteredByteIsRefused) {
  const auto good = scratch("every-byte.h5");
  write_checkpoint_segment(good, {{hash_bytes("a"), "first result"}, {hash_bytes("b"), std::string("\0\1", 2)}});
  const std::string original = bytes_of(good);
  const auto bad = scratch("every-byte-mutant.h5");
  std::size_t refused = 0;
  for (std::size_t i = 0; i < original.size(); ++i) {
    std::string m = original;
    m[i] = static_cast<char>(m[i] ^ 0x01);
    write_bytes(bad, m);
    const std::string e = error_of(bad);
    EXPECT_NE(e, "no error") << "a change of byte " << i << " of " << original.size() << " was accepted";
    if (e.find("checkpoint file " + bad.string()) != std::string::npos) ++refused;
  }
  EXPECT_EQ(refused, original.size());
}

TEST(CheckpointFile, AVersion1FileIsRefusedWithItsVersion) {
  // A version 1 segment is the same HDF5 part without the 512-byte user block in front.
  const auto good = scratch("v2.h5");
  write_checkpoint_segment(good, {{hash_bytes("a"), "1"}});
  const auto v1 = scratch("v1.h5");
  write_bytes(v1, bytes_of(good).substr(parsl::serial::kCheckpointHeaderSize));
  EXPECT_NE(error_of(v1).find("a version 1 checkpoint"), std::string::npos) << error_of(v1);
}

TEST(CheckpointFile, NotRegularFilesGiveClearErrorsWithoutBlocking) {
  const auto fifo = scratch("fifo.h5");
  fs::remove(fifo);
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
  EXPECT_NE(error_of(fifo).find("is not a regular file"), std::string::npos) << error_of(fifo);
  const auto dir = scratch("folder.h5");
  fs::create_directories(dir);
  EXPECT_NE(error_of(dir).find("is a folder"), std::string::npos) << error_of(dir);
  const auto loop_a = scratch("loop-a.h5"), loop_b = scratch("loop-b.h5");
  fs::remove(loop_a);
  fs::remove(loop_b);
  fs::create_symlink(loop_b, loop_a);
  fs::create_symlink(loop_a, loop_b);
  EXPECT_NE(error_of(loop_a).find("symbolic link that loops"), std::string::npos) << error_of(loop_a);
  const fs::path long_path = scratch(std::string(300, 'n') + ".h5");
  const std::string e = error_of(long_path);
  EXPECT_NE(e.find("too long"), std::string::npos) << e;
  EXPECT_LT(e.size(), 400u) << "the message quotes the whole path";
  // The folder listing used by the kernel and parsl-checkpoint.
  EXPECT_THROW((void)parsl::serial::checkpoint_segments(loop_a), CheckpointError);
  const auto segs = parsl::serial::checkpoint_segments(scratch(""));
  EXPECT_NE(std::find(segs.begin(), segs.end(), fifo), segs.end());  // listed, then refused by name
}

// A file made to pass the checksum (anyone can recompute it) still cannot lead the reader
// outside the file or make it allocate by a count taken on trust.
TEST(CheckpointFile, AForgedHeaderWithAValidChecksumIsBoundedByTheFile) {
  const auto good = scratch("forged-src.h5");
  write_checkpoint_segment(good, {{hash_bytes("a"), "1"}, {hash_bytes("b"), "2"}});
  const std::string original = bytes_of(good);
  auto forge = [&](std::size_t field, std::uint64_t value) {
    std::string m = original;
    for (int i = 0; i < 8; ++i) m[field + i] = static_cast<char>(value >> (8 * i));
    for (int i = 0; i < 16; ++i) m[64 + i] = 0;
    XXH128_hash_t h = XXH3_128bits(m.data(), m.size());
    for (int i = 0; i < 8; ++i) m[64 + i] = static_cast<char>(h.high64 >> (8 * i));
    for (int i = 0; i < 8; ++i) m[72 + i] = static_cast<char>(h.low64 >> (8 * i));
    const auto p = scratch("forged.h5");
    write_bytes(p, m);
    return error_of(p);
  };
  // Unforged but re-checksummed: accepted, so the forging itself is right.
  EXPECT_EQ(forge(24, 2), "no error");
  for (auto [field, value] : std::vector<std::pair<std::size_t, std::uint64_t>>{
           {24, std::uint64_t{1} << 40}, {24, ~std::uint64_t{0}}, {32, original.size()}, {40, 0},
           {48, ~std::uint64_t{0} - 3}, {56, original.size()}, {56, 1}})
    EXPECT_NE(forge(field, value).find("damaged"), std::string::npos)
        << "field " << field << " = " << value << ": " << forge(field, value);
}

}  // namespace
