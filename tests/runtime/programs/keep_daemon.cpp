// A bash app that keeps its daemon (AppOptions::keep_background_processes): the daemon
// outlives the task, and the program then ends normally. parsl_run_background_check.sh
// checks that the daemon ended with it.
//   keep_daemon COMMAND PIDFILE
#include <signal.h>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <string>
#include <thread>

#include <parsl/runtime.hpp>

inline const auto start_daemon = parsl::bash_app(
    "keep_daemon.start", [](const std::string& cmd, const std::string& pidfile) { return cmd + " & echo $! > " + pidfile; },
    parsl::AppOptions{.keep_background_processes = true});

int main(int argc, char** argv) {
  if (argc != 3) return 2;
  const std::string cmd = argv[1], pidfile = argv[2];
  char* args[] = {argv[0], nullptr};
  return parsl::run_local(1, args, [&] {
    start_daemon(cmd, pidfile).get();
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    long pid = 0;
    std::ifstream(pidfile) >> pid;
    if (pid > 0 && ::kill(static_cast<pid_t>(pid), 0) == 0) std::printf("daemon still runs after its task\n");
  });
}
