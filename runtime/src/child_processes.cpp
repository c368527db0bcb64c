#include "child_processes.hpp"

#include <signal.h>

#include <array>
#include <atomic>
#include <mutex>

namespace parsl::detail {
namespace {

// A fixed table, so that the signal handler only reads atomics (async-signal-safe). More
// task processes than slots at once in one process is far beyond any worker's core count.
constexpr int kSlots = 4096;
std::array<std::atomic<pid_t>, kSlots> g_children{};
static_assert(std::atomic<pid_t>::is_always_lock_free);

constexpr std::array<int, 3> kSignals = {SIGINT, SIGTERM, SIGHUP};

extern "C" void kill_children_and_die(int sig) {
  for (auto& c : g_children) {
    const pid_t target = c.load(std::memory_order_relaxed);
    if (target != 0) ::kill(target, SIGKILL);
  }
  // SA_RESETHAND restored the default action; the signal is blocked while we run, so this
  // one is delivered as soon as the handler returns and ends the process as it would have.
  ::raise(sig);
}

void install_handlers() {
  for (int sig : kSignals) {
    struct sigaction old {};
    if (::sigaction(sig, nullptr, &old) != 0) continue;
    if ((old.sa_flags & SA_SIGINFO) != 0 || old.sa_handler != SIG_DFL) continue;  // not ours to take
    struct sigaction sa {};
    sa.sa_handler = kill_children_and_die;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = SA_RESETHAND;
    ::sigaction(sig, &sa, nullptr);
  }
}

}  // namespace

TrackedChild::TrackedChild(pid_t target) noexcept {
  static std::once_flag once;
  std::call_once(once, install_handlers);
  for (int i = 0; i < kSlots; ++i) {
    pid_t empty = 0;
    if (g_children[static_cast<std::size_t>(i)].compare_exchange_strong(empty, target, std::memory_order_relaxed)) {
      slot_ = i;
      return;
    }
  }
}

TrackedChild::~TrackedChild() {
  if (slot_ >= 0) g_children[static_cast<std::size_t>(slot_)].store(0, std::memory_order_relaxed);
}

}  // namespace parsl::detail
