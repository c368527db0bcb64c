#pragma once
// Helpers shared by the runtime tests.

#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <thread>

#include <parsl/runtime.hpp>

namespace parsl::test {

/// A fresh folder for run directories, removed at exit of the test program.
inline std::filesystem::path scratch_dir() {
  static const std::filesystem::path dir = [] {
    auto d = std::filesystem::temp_directory_path() / ("parsl-tests-" + std::to_string(::getpid()));
    std::filesystem::create_directories(d);
    struct Cleanup {
      std::filesystem::path p;
      ~Cleanup() {
        std::error_code ec;
        std::filesystem::remove_all(p, ec);
      }
    };
    static Cleanup cleanup{d};
    return d;
  }();
  return dir;
}

/// A config with one thread pool (or the given executors) and run dirs in scratch space.
inline Config thread_config(int threads = 2) {
  Config c;
  c.executors.push_back(std::make_shared<ThreadPoolExecutor>(threads));
  c.run_dir = scratch_dir() / "runinfo";
  return c;
}

inline Config inline_config() {
  Config c;
  c.executors.push_back(std::make_shared<InlineExecutor>());
  c.run_dir = scratch_dir() / "runinfo";
  return c;
}

/// Blocks a task until release() (to build graphs before anything runs).
class Gate {
 public:
  void release() {
    open_.store(true);
    open_.notify_all();
  }
  void wait() const {
    while (!open_.load()) open_.wait(false);
  }

 private:
  std::atomic<bool> open_{false};
};

/// The pid a task wrote to `file` (`echo $$ > file`), waiting up to 10 s for it; 0 if none.
inline pid_t wait_for_pid(const std::filesystem::path& file) {
  for (int i = 0; i < 2000; ++i) {
    std::ifstream in(file);
    pid_t pid = 0;
    if (in >> pid && pid > 0) return pid;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return 0;
}

/// Whether process `pid` is gone within 5 s.
inline bool process_gone(pid_t pid) {
  for (int i = 0; i < 500; ++i) {
    if (::kill(pid, 0) != 0) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return false;
}

}  // namespace parsl::test
