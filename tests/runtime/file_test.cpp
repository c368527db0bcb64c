#include <gtest/gtest.h>

#include <fstream>

#include "test_support.hpp"

namespace {

TEST(File, SchemesAndLocalPaths) {
  EXPECT_EQ(parsl::File("data/x.txt").scheme(), "file");
  EXPECT_EQ(parsl::File("data/x.txt").path(), "data/x.txt");
  EXPECT_EQ(parsl::File("file:///tmp/a.h5").path(), "/tmp/a.h5");
  parsl::File web("https://example.org/runs/run7.csv?v=2");
  EXPECT_EQ(web.scheme(), "https");
  EXPECT_FALSE(web.is_local());
  EXPECT_EQ(web.path(), "run7.csv");
  EXPECT_EQ(parsl::File("ftp://host/pub/x.tar").path(), "x.tar");
  try {
    parsl::File bad("gopher://old/thing");
    FAIL();
  } catch (const parsl::Error& e) {
    EXPECT_NE(std::string(e.what()).find("unknown scheme 'gopher'"), std::string::npos) << e.what();
  }
  EXPECT_THROW(parsl::File(""), parsl::Error);
}

const auto write_to = parsl::bash_app("file_test.write_to", [](const std::string& text, const std::string& path) {
  return "sleep 0.05; echo " + text + " > " + path;
});
const auto concat = parsl::bash_app("file_test.concat", [](const std::string& a, const std::string& b, const std::string& out) {
  return "cat " + a + " " + b + " > " + out;
});
const auto forgets = parsl::bash_app("file_test.forgets", [](int) { return std::string("true"); });
const auto fails = parsl::bash_app("file_test.fails", [](int) { return std::string("exit 4"); });

std::string slurp(const std::string& p) {
  std::ifstream in(p);
  std::string s((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  return s;
}

TEST(File, OutputsBecomeDataFuturesThatOrderTheirUsers) {
  parsl::DataFlowKernel dfk(parsl::test::thread_config());
  const auto dir = parsl::test::scratch_dir() / "files";
  std::filesystem::create_directories(dir);
  const std::string a = (dir / "a.txt").string(), b = (dir / "b.txt").string(), ab = (dir / "ab.txt").string();
  auto fa = write_to.with({.outputs = {a}})("alpha", a);
  auto fb = write_to.with({.outputs = {b}})("beta", b);
  ASSERT_EQ(fa.outputs().size(), 1u);
  // No future among the arguments: only the inputs list orders this after both writers.
  auto fab = concat.with({.inputs = {fa.outputs()[0], fb.outputs()[0]}, .outputs = {ab}})(a, b, ab);
  EXPECT_EQ(fab.outputs()[0].get().path(), ab);
  EXPECT_EQ(slurp(ab), "alpha\nbeta\n");
}

TEST(File, MissingOutputsAreNamed) {
  parsl::DataFlowKernel dfk(parsl::test::thread_config());
  const auto ghost = (parsl::test::scratch_dir() / "never-written.txt").string();
  auto f = forgets.with({.outputs = {ghost}})(1);
  try {
    f.get();
    FAIL();
  } catch (const parsl::MissingOutputs& e) {
    EXPECT_NE(std::string(e.what()).find(ghost), std::string::npos) << e.what();
  }
  EXPECT_THROW(f.outputs()[0].get(), parsl::MissingOutputs);
}

TEST(File, AFailedProducerHoldsItsUsersBack) {
  parsl::DataFlowKernel dfk(parsl::test::thread_config());
  const auto out = (parsl::test::scratch_dir() / "from-failed.txt").string();
  auto producer = fails.with({.outputs = {out}})(1);
  auto user = forgets.with({.inputs = {producer.outputs()[0]}})(2);
  EXPECT_THROW(user.get(), parsl::DependencyError);
  EXPECT_EQ(user.state(), parsl::TaskState::dep_fail);
}

}  // namespace
