#include <gtest/gtest.h>

#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "parsl/serial/checkpoint_file.hpp"

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
}

TEST(CheckpointFile, TruncatedCorruptAndForeignFilesAreNamed) {
  const auto good = scratch("good.h5");
  write_checkpoint_segment(good, {{hash_bytes("a"), "1"}, {hash_bytes("b"), "2"}});
  const auto size = fs::file_size(good);
  for (std::uintmax_t keep : {std::uintmax_t{0}, std::uintmax_t{8}, size / 2, size - 1}) {
    const auto cut = scratch("cut.h5");
    fs::copy_file(good, cut, fs::copy_options::overwrite_existing);
    fs::resize_file(cut, keep);
    const std::string e = error_of(cut);
    EXPECT_NE(e.find("checkpoint file " + cut.string()), std::string::npos) << "kept " << keep << ": " << e;
  }
  const auto text = scratch("notes.txt");
  std::ofstream(text) << "not a checkpoint\n";
  EXPECT_NE(error_of(text).find("is not an HDF5 file"), std::string::npos);
  EXPECT_NE(error_of(scratch("missing.h5")).find("does not exist"), std::string::npos);
}

}  // namespace
