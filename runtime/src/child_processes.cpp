#include "child_processes.hpp"

#include "parsl/runtime/resource_sample.hpp"

#include <fcntl.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <mutex>
#include <new>
#include <vector>

namespace parsl::detail {
namespace {

// A fixed table of atomics, in a shared mapping so that the watchdog process sees it
// change. More task processes than slots at once in one process is far beyond any worker's
// core count; a child that finds no slot is simply not tracked.
constexpr int kSlots = 4096;
using Slot = std::atomic<pid_t>;
static_assert(Slot::is_always_lock_free);
Slot* g_children = nullptr;
std::atomic<pid_t> g_running{0};  // the latest tracked target still alive (resource samples)
int g_watchdog_fd = -1;  // our end of the pipe the watchdog waits on

// The watchdog: a forked process that waits for the end of a pipe whose other end only
// this process holds. When this process dies in any way (Ctrl-C, SIGTERM, or SIGKILL, which
// no handler could see and which MPICH's launcher sends to the other ranks as soon as one
// rank dies), the read returns and the watchdog kills every task still in the table. It
// only makes async-signal-safe calls, as a child of a multi-threaded process must.
[[noreturn]] void watchdog(int read_fd) {
  // Its own session and process group: launchers kill a dead rank's whole process group
  // (MPICH's hydra does), and a terminal's Ctrl-C reaches its foreground group.
  ::setsid();
  ::prctl(PR_SET_NAME, "parsl-watchdog", 0, 0, 0);  // what ps and top show
  for (int sig : {SIGINT, SIGTERM, SIGHUP}) ::signal(sig, SIG_IGN);  // outlive what ends the parent
  const int null_fd = ::open("/dev/null", O_RDWR);
  if (null_fd >= 0) {
    ::dup2(null_fd, 0);
    ::dup2(null_fd, 1);  // do not hold the launcher's output pipes open
    ::dup2(null_fd, 2);
  }
  if (read_fd != 3) {
    ::dup2(read_fd, 3);
    read_fd = 3;
  }
  if (::close_range(4, ~0U, 0) != 0)  // nor MPI's sockets
    for (int fd = 4; fd < 65536; ++fd) ::close(fd);
  char byte;
  while (::read(read_fd, &byte, 1) != 0) {
    if (errno != EINTR) break;
  }
  for (int i = 0; i < kSlots; ++i) {
    const pid_t target = g_children[i].load(std::memory_order_relaxed);
    if (target != 0) ::kill(target, SIGKILL);
  }
  ::_exit(0);
}

// Without a shared table, a pipe or a fork there is no watchdog: tasks are then not
// tracked (TrackedChild does nothing), as before it existed.
void start_tracking() {
  void* mem = ::mmap(nullptr, sizeof(Slot) * kSlots, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  if (mem == MAP_FAILED) return;
  auto* table = static_cast<Slot*>(mem);
  for (int i = 0; i < kSlots; ++i) new (&table[i]) Slot(0);
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) return;  // CLOEXEC: task processes must not hold it
  g_children = table;  // before the fork: the watchdog reads it
  const pid_t pid = ::fork();
  if (pid == 0) watchdog(fds[0]);
  ::close(fds[0]);
  if (pid < 0) {
    ::close(fds[1]);
    g_children = nullptr;
    return;
  }
  g_watchdog_fd = fds[1];
}

}  // namespace

TrackedChild::TrackedChild(pid_t target) noexcept : target_(target) {
  g_running.store(target, std::memory_order_relaxed);
  static std::once_flag once;
  std::call_once(once, start_tracking);
  if (g_children == nullptr) return;
  for (int i = 0; i < kSlots; ++i) {
    pid_t empty = 0;
    if (g_children[i].compare_exchange_strong(empty, target, std::memory_order_relaxed)) {
      slot_ = i;
      return;
    }
  }
}

TrackedChild::~TrackedChild() {
  pid_t mine = target_;
  g_running.compare_exchange_strong(mine, 0, std::memory_order_relaxed);
  if (slot_ >= 0 && !kept_) g_children[slot_].store(0, std::memory_order_relaxed);
}

void TrackedChild::keep_until_exit() noexcept {
  if (slot_ < 0) return;
  static std::mutex mutex;
  static std::vector<int> kept;  // slots of kept targets
  std::lock_guard lock(mutex);
  // A kept group that has emptied must leave the table: its id may later name another group.
  std::erase_if(kept, [](int slot) {
    const pid_t target = g_children[slot].load(std::memory_order_relaxed);
    if (target == 0 || (::kill(target, 0) != 0 && errno == ESRCH)) {
      g_children[slot].store(0, std::memory_order_relaxed);
      return true;
    }
    return false;
  });
  try {
    kept.push_back(slot_);
  } catch (...) {
    return;  // no memory: the slot is freed as if not kept
  }
  kept_ = true;
}

void forget_tracking_in_child() noexcept {
  // A forked child (an isolated try) must not keep the watchdog's pipe open, or the
  // watchdog would wait for the child too.
  if (g_watchdog_fd >= 0) ::close(g_watchdog_fd);
}

}  // namespace parsl::detail

pid_t parsl::running_task_process() noexcept { return detail::g_running.load(std::memory_order_relaxed); }
