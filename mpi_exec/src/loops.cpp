#include "loops.hpp"

#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdlib>
#include <limits>
#include <thread>

#include "parsl/mpi_exec/dispatcher.hpp"
#include "parsl/mpi_exec/mpi_app.hpp"
#include "parsl/mpi_exec/root_core.hpp"
#include "parsl/mpi_exec/worker_core.hpp"
#include "parsl/runtime/errors.hpp"
#include "parsl/runtime/resource_sample.hpp"
#include "parsl/runtime/shared.hpp"
#include "parsl/serial/codec.hpp"
#include "parsl/serial/remote_error.hpp"
#include "pinning.hpp"
#include "start_check.hpp"

namespace parsl::mpi::detail {

// A task message, with the bytes of large arguments sent from where they are rather than
// copied into the message first.
namespace {
constexpr std::size_t kGatherBytes = 64 * 1024;
}  // namespace

void send_down(Link& ch, int dest, int tag, DownMsg&& msg) {
  serial::Gathered g = serial::encode_gather(msg, kGatherBytes);
  if (g.external.empty()) {
    ch.send(dest, tag, std::move(g.head));  // nearly every message: nothing to keep alive
    return;
  }
  // The pieces point into heap buffers of the message's strings (64 KiB or more each),
  // which moving the message into `keep` does not move.
  auto keep = std::make_shared<const DownMsg>(std::move(msg));
  ch.send_gathered(dest, tag, std::move(g), std::move(keep));
}

namespace {
using Clock = std::chrono::steady_clock;
constexpr auto kFlushAfter = std::chrono::microseconds(1000);

// The communicator of an MPI task: its members, in order, out of the tasks' communicator.
// Collective over the members only; they all call it after the same `go`.
MPI_Comm task_communicator(Channel& ch, const Placement& p) {
  MPI_Group all = MPI_GROUP_NULL, members = MPI_GROUP_NULL;
  MPI_Comm comm = MPI_COMM_NULL;
  PARSL_MPI_CHECK(MPI_Comm_group(ch.tasks_comm(), &all));
  int rc = MPI_Group_incl(all, static_cast<int>(p.members.size()), p.members.data(), &members);
  if (rc == MPI_SUCCESS) rc = MPI_Comm_create_group(ch.tasks_comm(), members, static_cast<int>(p.task.id % 32768), &comm);
  MPI_Group_free(&all);
  if (members != MPI_GROUP_NULL) MPI_Group_free(&members);
  if (rc != MPI_SUCCESS) throw MpiError("MPI_Comm_create_group for task " + std::to_string(p.task.id), rc);
  return comm;
}

// Every `interval` seconds, a resource sample of the worker's running try (monitoring's
// `resource` table): its bash or isolated process group, else the runner thread. An MPI
// app runs on the communication thread itself and is not sampled.
class UsageSampler {
 public:
  explicit UsageSampler(double interval)
      : every_(std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(interval))),
        next_(Clock::now() + every_) {}
  void maybe_sample(WorkerCore& core, Clock::time_point now, pid_t runner) {
    if (every_.count() <= 0 || now < next_) return;
    next_ = now + every_;
    const auto r = core.running_try();
    if (!r) return;
    const pid_t child = running_task_process();
    ResourceSample s = sample_resources(child, child != 0 ? 0 : runner);
    if (s.pid == 0) return;  // gone meanwhile
    const double cpu = s.time_user + s.time_system;
    const bool same = last_id_ == r->id && last_attempt_ == r->attempt && last_child_ == child;
    s.interval = std::max(0.0, static_cast<double>(s.time_us - (same ? last_us_ : r->started_us)) / 1e6);
    // CPU percent over the interval; at a try's first sample only a child's CPU time is all
    // its own (a runner thread's counts earlier tries too).
    if (s.interval > 0 && (same || child != 0)) s.cpu_percent = 100.0 * (cpu - (same ? last_cpu_ : 0.0)) / s.interval;
    last_id_ = r->id;
    last_attempt_ = r->attempt;
    last_child_ = child;
    last_cpu_ = cpu;
    last_us_ = s.time_us;
    core.report_usage(r->id, r->attempt, serial::encode(s));
  }

 private:
  Clock::duration every_;
  Clock::time_point next_;
  std::uint64_t last_id_ = 0;
  std::uint32_t last_attempt_ = 0;
  pid_t last_child_ = 0;
  double last_cpu_ = 0;
  std::int64_t last_us_ = 0;
};

}  // namespace

[[noreturn]] void unexpected(int me, int source, int tag, const char* role, int parent) {
  throw ProtocolError("rank " + std::to_string(me) + " (" + role + ") got a message with tag " + std::to_string(tag) +
                      " from rank " + std::to_string(source) + "; it takes task messages only from its parent, rank " +
                      std::to_string(parent));
}

int worker_loop(Channel& ch, const Topology& topo, const MpiOptions& opts, const std::vector<int>& block,
                const std::string& how) {
  const RankPlace me = topo.place(ch.rank());
  setenv("PARSL_WORKER_RANK", std::to_string(ch.rank()).c_str(), 1);
  int world = 0;  // embedded, the executor's ranks are not MPI_COMM_WORLD's
  MPI_Comm_rank(MPI_COMM_WORLD, &world);
  setenv("PARSL_WORLD_RANK", std::to_string(world).c_str(), 1);
  setenv("PARSL_WORKER_COUNT", std::to_string(topo.workers()).c_str(), 1);
  setenv("PARSL_NODE", std::to_string(me.node).c_str(), 1);
  setenv("PARSL_HOST", serial::this_host().c_str(), 1);
  const std::string binding = pin_worker(block, how, opts.pin.value_or(true));

  // This thread talks MPI; a runner thread (bound like the process) runs the tasks, so the
  // worker answers its parent while a task runs.
  WorkerCore core(ch.rank(), opts.prefetch, opts.max_prefetch);
  core.stamp_starts(opts.monitoring);
  TaskBinder binder(opts.pin.value_or(true));
  core.set_binder([&binder](const Placement* p) { binder.apply(p); });
  std::atomic<pid_t> runner_tid{0};  // in-process tasks are sampled as this thread
  std::thread runner([&core, &runner_tid] {
    runner_tid.store(::gettid(), std::memory_order_relaxed);
    while (auto task = core.wait_next()) core.execute(*task);
  });
  UsageSampler sampler(opts.sample_interval);
  struct JoinRunner {
    WorkerCore& core;
    std::thread& thread;
    ~JoinRunner() {
      core.close();
      if (thread.joinable()) thread.join();
    }
  } join_runner{core, runner};

  UpMsg hello = core.take_up();
  hello.notes.push_back(rank_name(ch.comm(), ch.rank()) + " on " + serial::this_host() + ": worker on node " +
                        std::to_string(me.node) + ", " + binding);
  ch.send(me.parent, kTagUp, encode(hello));

  Backoff backoff;
  std::string buf;
  int source = 0, tag = 0;
  for (;;) {
    bool active = false;
    while (ch.try_receive(source, tag, buf)) {
      active = true;
      if (tag == kTagShare && source == me.parent) {
        // Releases first: a value released and shared again in one round (an equal value,
        // the same id) must stay.
        ShareMsg m = decode_share(buf, source);
        for (std::uint64_t id : m.released) parsl::detail::SharedStore::instance().erase(id);
        for (auto& [id, bytes] : m.values) parsl::detail::SharedStore::instance().put_bytes(id, std::move(bytes));
        continue;
      }
      if (!(tag == kTagDown && source == me.parent) && !(tag == kTagDirect && source == 0))
        unexpected(ch.rank(), source, tag, "worker", me.parent);
      core.on_down(decode_down(buf, source));
    }
    const auto now = Clock::now();
    core.check_running(now);
    sampler.maybe_sample(core, now, runner_tid.load(std::memory_order_relaxed));
    if (auto p = core.take_mpi_start()) {
      // An MPI task runs on this thread (MPI_THREAD_FUNNELED is enough). The worker holds no
      // other work, so nothing waits while this thread is away; its start goes up first.
      ch.send(me.parent, kTagUp, encode(core.take_up()));
      core.execute(p->task, [&](const TaskMsg& t) {
        MPI_Comm comm = task_communicator(ch, *p);
        struct Free {
          MPI_Comm& c;
          ~Free() { MPI_Comm_free(&c); }
        } free_comm{comm};
        mpi::detail::ScopedTaskComm scope(comm);
        return WorkerCore::run_registered(t, &core.cancel_flag(), ch.rank());
      });
      active = true;
    }
    if (core.should_flush(now, kFlushAfter)) {
      ch.send(me.parent, kTagUp, encode(core.take_up()));
      active = true;
    }
    if (core.control() != Control::none && core.idle()) {
      UpMsg bye = core.take_up();
      bye.bye = true;
      ch.send(me.parent, kTagUp, encode(bye));
      ch.flush();
      return core.control() == Control::shutdown_error ? 1 : 0;
    }
    ch.progress();
    if (active) {
      backoff.reset();
    } else if (const long us = backoff.next_sleep_us(); us > 0) {
      core.wait_for_news(std::chrono::microseconds(us));  // the runner wakes us when it has results
      backoff.idle_counted();
    } else {
      backoff.idle();
    }
  }
}

namespace {
UpMsg up_from(Dispatcher& d) {
  UpMsg m;
  m.credit = d.take_credit();
  m.events = d.take_events();
  m.notes = d.take_notes();
  return m;
}
}  // namespace

SubmasterNode::SubmasterNode(const RankPlace& me, int rank, std::size_t max_batch, std::int64_t tree_capacity)
    : parent_(me.parent),
      children_(me.children),
      rank_(rank),
      d_(me.children, max_batch),
      note_budget_(tree_capacity <= 0 ? std::numeric_limits<std::int64_t>::max()
                                      : std::max<std::int64_t>(1, (kStartupNotes * me.capacity + tree_capacity - 1) /
                                                                      tree_capacity)) {}

void SubmasterNode::trim_notes(std::vector<std::string>& notes) {
  std::size_t kept = 0;
  for (std::size_t i = 0; i < notes.size(); ++i) {
    if (note_budget_ > 0) {
      --note_budget_;
      if (kept != i) notes[kept] = std::move(notes[i]);  // never onto itself: that would empty it
      ++kept;
    } else {
      ++notes_dropped_;
    }
  }
  notes.resize(kept);
}

void SubmasterNode::hello(Link& link, std::string note) {
  UpMsg hello;  // credit comes from the children's own first messages, passed up as they arrive
  hello.notes.push_back(std::move(note));
  trim_notes(hello.notes);
  link.send(parent_, kTagUp, encode(hello));
}

void SubmasterNode::on_message(Link& link, int source, int tag, const std::string& bytes) {
  if (tag == kTagDown && source == parent_) {
    DownMsg m = decode_down(bytes, source);
    d_.push_tasks(std::move(m.tasks));
    for (std::uint64_t id : m.cancel) d_.cancel(id);
    if (m.control != Control::none) control_ = m.control;
  } else if (tag == kTagShare && source == parent_) {
    for (int c : children_) link.send(c, kTagShare, bytes);  // on at once, ahead of the tasks
  } else if (tag == kTagUp) {
    d_.on_up(source, decode_up(bytes, source));
  } else {
    unexpected(rank_, source, tag, "sub-master", parent_);
  }
}

bool SubmasterNode::turn(Link& link) {
  bool active = false;
  for (auto& [child, msg] : d_.dispatch()) {
    send_down(link, child, kTagDown, std::move(msg));
    active = true;
  }
  // Everything that arrived this round goes up in one message, with the tasks no child of
  // ours can take now (handed back by a busy worker): another subtree may be idle.
  std::vector<TaskMsg> unplaced = d_.take_unplaceable();
  if (d_.has_events() || !unplaced.empty()) {
    UpMsg up = up_from(d_);
    trim_notes(up.notes);
    up.returned = std::move(unplaced);
    if (up.credit != 0 || !up.events.empty() || !up.notes.empty() || !up.returned.empty())
      link.send(parent_, kTagUp, encode(up));
  }
  if (control_ != Control::none && !forwarded_ && d_.queued() == 0) {
    DownMsg stop;
    stop.control = control_;
    const std::string bytes = encode(stop);
    for (int c : children_) link.send(c, kTagDown, bytes);
    forwarded_ = true;
  }
  if (forwarded_ && !done_ && d_.finished_children() == children_.size()) {
    UpMsg bye = up_from(d_);
    trim_notes(bye.notes);
    bye.notes_dropped = notes_dropped_ + d_.notes_dropped();  // ours and our children's
    bye.bye = true;
    link.send(parent_, kTagUp, encode(bye));
    done_ = true;
  }
  return active;
}

int submaster_loop(Link& ch, const Topology& topo, const MpiOptions& opts, const std::string& name) {
  const RankPlace me = topo.place(ch.rank());
  SubmasterNode node(me, ch.rank(), static_cast<std::size_t>(opts.max_batch), topo.capacity(0));
  node.hello(ch, name + " on " + serial::this_host() + ": sub-master of " + std::to_string(me.children.size()) +
                     " ranks, capacity " + std::to_string(me.capacity));
  Backoff backoff;
  std::string buf;
  int source = 0, tag = 0;
  for (;;) {
    bool active = false;
    while (ch.try_receive(source, tag, buf)) {
      active = true;
      node.on_message(ch, source, tag, buf);
    }
    active = node.turn(ch) || active;
    if (node.done()) {
      ch.flush();
      return node.status();
    }
    ch.progress();
    if (active)
      backoff.reset();
    else
      backoff.idle();
  }
}

void root_loop(Link& ch, const Topology& topo, MpiExecutor* exec, Logger* log,
               const std::function<bool()>& failed) {
  const RankPlace me = topo.place(0);
  RootCore root(me.children, exec ? static_cast<std::size_t>(exec->options().max_batch) : 512, {},
                exec ? exec->shared_machine() : std::make_shared<const Machine>());
  // Where each worker is, for monitoring's `try` rows only: a table of every worker, which a
  // run without monitoring does not keep (33 MB of rank 0's memory at 262,144 workers).
  if (exec && exec->options().monitoring) root.set_worker_places(exec->machine(), exec->options().pin.value_or(true));
  Backoff backoff;
  std::string buf;
  int source = 0, tag = 0;
  bool stop = exec == nullptr;

  auto receive = [&] {
    bool any = false;
    while (ch.try_receive(source, tag, buf)) {
      if (tag != kTagUp) unexpected(0, source, tag, "root", -1);
      root.on_up(source, decode_up(buf, source));
      any = true;
    }
    for (auto& n : root.take_notes())
      if (log) log->info(n);
    return any;
  };

  bool ready = false;
  while (!stop || root.in_flight() > 0) {
    bool active = false;
    if (!ready && root.granted() >= me.capacity) {
      ready = true;  // every worker asked for its first tasks (credit is passed up whole)
      if (exec != nullptr) exec->mark_ready();
    }
    if (exec != nullptr) {
      const long wait_us = backoff.next_sleep_us();
      MpiExecutor::Pending p = exec->take(std::chrono::microseconds(wait_us));
      if (!p.shares.empty() || !p.released.empty()) {
        // Ahead of this round's tasks, which may refer to them, to every child.
        ShareMsg m;
        for (auto& [id, bytes] : p.shares) m.values.emplace_back(id, *bytes);
        m.released = std::move(p.released);
        const std::string bytes = encode(m);
        for (int c : me.children) ch.send(c, kTagShare, bytes);
        active = true;
      }
      for (auto& [msg, handle] : p.tasks) {
        root.submit(std::move(msg), std::move(handle));
        active = true;
      }
      for (std::uint64_t id : p.cancels) {
        root.cancel(id);
        active = true;
      }
      stop = stop || p.stop;
    }
    active = receive() || active;
    for (auto& [child, msg] : root.dispatch()) {
      send_down(ch, child, kTagDown, std::move(msg));
      active = true;
    }
    for (auto& [worker, msg] : root.direct()) {
      send_down(ch, worker, kTagDirect, std::move(msg));
      active = true;
    }
    ch.progress();
    if (active)
      backoff.reset();
    else if (exec == nullptr)
      backoff.idle();
    else
      backoff.idle_counted();
  }
  if (log != nullptr) log->info(root.traffic());
  // Stop the tree and wait for every child's bye, so nothing is left unreceived.
  DownMsg stop_msg;
  stop_msg.control = failed() ? Control::shutdown_error : Control::shutdown;
  for (int c : me.children) ch.send(c, kTagDown, encode(stop_msg));
  backoff.reset();
  while (root.finished_children() < me.children.size()) {
    const bool active = receive();
    ch.progress();
    if (active)
      backoff.reset();
    else
      backoff.idle();
  }
  ch.flush();
  if (const std::int64_t notes_dropped = root.notes_dropped(); log != nullptr && notes_dropped > 0)
    log->info(std::to_string(notes_dropped) + " start-up lines of workers and sub-masters were counted instead of logged: "
              "each sub-master passes up its share of about " + std::to_string(kStartupNotes) +
              " for the whole tree, so that rank 0's log and memory do not grow with the workers");
  if (exec != nullptr) exec->mark_stopped();
}

}  // namespace parsl::mpi::detail
