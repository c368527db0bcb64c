// Staging against real servers on loopback, started by the test: Python's http.server and
// pyftpdlib (Debian python3, python3-pyftpdlib).
#include <gtest/gtest.h>

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fstream>

#include "test_support.hpp"

extern char** environ;

namespace {

using namespace std::chrono_literals;

int free_port() {
  const int s = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ::bind(s, reinterpret_cast<sockaddr*>(&a), sizeof a);
  socklen_t len = sizeof a;
  ::getsockname(s, reinterpret_cast<sockaddr*>(&a), &len);
  ::close(s);
  return ntohs(a.sin_port);
}

bool accepting(int port) {
  const int s = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<uint16_t>(port));
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  const bool ok = ::connect(s, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
  ::close(s);
  return ok;
}

// A server process on loopback for the lifetime of the object.
class Server {
 public:
  Server(std::vector<std::string> argv, int port) : port_(port) {
    std::vector<char*> args;
    for (auto& a : argv) args.push_back(a.data());
    args.push_back(nullptr);
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
    posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
    if (posix_spawn(&pid_, args[0], &fa, nullptr, args.data(), environ) != 0) pid_ = -1;
    posix_spawn_file_actions_destroy(&fa);
    for (int i = 0; i < 500 && pid_ > 0 && !accepting(port_); ++i) std::this_thread::sleep_for(10ms);
  }
  ~Server() {
    if (pid_ > 0) {
      ::kill(pid_, SIGTERM);
      ::waitpid(pid_, nullptr, 0);
    }
  }
  bool up() const { return pid_ > 0 && accepting(port_); }
  int port() const { return port_; }

 private:
  pid_t pid_ = -1;
  int port_;
};

// A function app (not bash): its executor stages for it.
const auto count_lines = parsl::app("staging_test.count_lines", [](const std::string& in, const std::string& out) {
  std::ifstream f(in);
  int n = 0;
  for (std::string line; std::getline(f, line);) ++n;
  std::ofstream(out) << n << "\n";
  return n;
});

const auto shell = parsl::bash_app("staging_test.shell", [](const std::string& cmd) { return cmd; });

std::string slurp(const std::filesystem::path& p) {
  std::ifstream in(p);
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

class Staging : public ::testing::Test {
 protected:
  void SetUp() override {
    served_ = parsl::test::scratch_dir() / ("served-" + std::to_string(::getpid()));
    std::filesystem::create_directories(served_);
    std::ofstream(served_ / "stage_http.csv") << "1,2,3\n";
    std::ofstream(served_ / "stage_http2.csv") << "4,5,6\n";
    std::ofstream(served_ / "stage_fn.csv") << "a\nb\nc\n";
    std::ofstream(served_ / "stage_ftp_in.txt") << "from ftp\n";
    const int hp = free_port();
    http_ = std::make_unique<Server>(std::vector<std::string>{"/usr/bin/python3", "-m", "http.server", std::to_string(hp),
                                                              "--bind", "127.0.0.1", "--directory", served_.string()},
                                     hp);
    const int fp = free_port();
    ftp_ = std::make_unique<Server>(std::vector<std::string>{"/usr/bin/python3", "-m", "pyftpdlib", "-i", "127.0.0.1",
                                                             "-p", std::to_string(fp), "-w", "-d", served_.string()},
                                    fp);
    ASSERT_TRUE(http_->up()) << "the HTTP server did not start";
    ASSERT_TRUE(ftp_->up()) << "the FTP server did not start (python3-pyftpdlib installed?)";
  }
  // ctest runs these cases as separate processes in parallel, in one working directory: each
  // case stages names of its own and removes only those.
  void TearDown() override {
    for (const auto& f : staged_) std::filesystem::remove(f);
  }
  void staged(std::initializer_list<const char*> names) { staged_.insert(staged_.end(), names.begin(), names.end()); }
  std::vector<std::string> staged_;
  std::string http(const std::string& name) const { return "http://127.0.0.1:" + std::to_string(http_->port()) + "/" + name; }
  std::string ftp(const std::string& name) const { return "ftp://127.0.0.1:" + std::to_string(ftp_->port()) + "/" + name; }

  std::filesystem::path served_;
  std::unique_ptr<Server> http_, ftp_;
};

TEST_F(Staging, HttpInputIsFetchedBeforeTheTaskRuns) {
  staged({"stage_http.csv"});
  parsl::DataFlowKernel dfk(parsl::test::thread_config());
  const auto out = (parsl::test::scratch_dir() / "sum.txt").string();
  shell.with({.inputs = {http("stage_http.csv")}})("awk -F, '{print $1+$2+$3}' stage_http.csv > " + out).get();
  EXPECT_EQ(slurp(out), "6\n");
}

TEST_F(Staging, MissingRemoteInputFailsThatTaskClearlyAndNothingElse) {
  staged({"stage_http2.csv", "stage_missing.csv"});
  parsl::DataFlowKernel dfk(parsl::test::thread_config());
  auto bad = shell.with({.inputs = {http("stage_missing.csv")}})("cat stage_missing.csv");
  auto good = shell.with({.inputs = {http("stage_http2.csv")}})("test -s stage_http2.csv");
  try {
    bad.get();
    FAIL();
  } catch (const parsl::StagingError& e) {
    const std::string m = e.what();
    EXPECT_NE(m.find(http("stage_missing.csv")), std::string::npos) << m;
    EXPECT_NE(m.find("404"), std::string::npos) << m;
  }
  EXPECT_EQ(good.get(), 0);
  EXPECT_FALSE(std::filesystem::exists("stage_missing.csv"));
  EXPECT_FALSE(std::filesystem::exists("stage_missing.csv.part"));
}

TEST_F(Staging, FtpInputAndOutputRoundTrip) {
  staged({"stage_ftp_in.txt", "stage_result.txt"});
  parsl::DataFlowKernel dfk(parsl::test::thread_config());
  auto f = shell.with({.inputs = {ftp("stage_ftp_in.txt")}, .outputs = {ftp("results/stage_result.txt")}})(
      "tr a-z A-Z < stage_ftp_in.txt > stage_result.txt");
  EXPECT_EQ(f.get(), 0);
  EXPECT_EQ(slurp(served_ / "results" / "stage_result.txt"), "FROM FTP\n");
  EXPECT_EQ(f.outputs()[0].get().url(), ftp("results/stage_result.txt"));
}

TEST_F(Staging, FunctionAppsAreStagedByTheirExecutor) {
  staged({"stage_fn.csv", "stage_fn_out.txt"});
  parsl::DataFlowKernel dfk(parsl::test::thread_config());
  auto f = count_lines.with({.inputs = {http("stage_fn.csv")}, .outputs = {ftp("fn/stage_fn_out.txt")}})(
      "stage_fn.csv", "stage_fn_out.txt");
  EXPECT_EQ(f.get(), 3);
  EXPECT_EQ(slurp(served_ / "fn" / "stage_fn_out.txt"), "3\n");
}

}  // namespace
