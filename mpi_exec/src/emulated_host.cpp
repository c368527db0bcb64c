// A real rank that hosts virtual sub-masters and emulated workers (emulation.hpp).
#include <chrono>
#include <functional>
#include <memory>
#include <queue>
#include <thread>

#include "emulation.hpp"
#include "loops.hpp"
#include "parsl/mpi_exec/worker_core.hpp"
#include "parsl/runtime/errors.hpp"

namespace parsl::mpi::detail {

namespace {

using Clock = std::chrono::steady_clock;
constexpr auto kFlushAfter = std::chrono::microseconds(1000);  // as the real worker loop

// The Link a hosted sub-master sends through: its own virtual rank on the host's router.
class HostedLink final : public Link {
 public:
  explicit HostedLink(Router& r) : router_(r) {}
  int vrank = 0;
  int rank() const noexcept override { return vrank; }
  void send(int dest, int tag, std::string bytes) override { router_.send(vrank, dest, tag, std::move(bytes)); }
  bool try_receive(int&, int&, std::string&) override { return false; }  // the host delivers
  std::size_t progress() override { return router_.channel().progress(); }
  void flush() override {}

 private:
  Router& router_;
};

// One emulated worker: the real WorkerCore, and the task it holds instead of running.
struct Worker {
  int vrank = 0, parent = 0;
  std::unique_ptr<WorkerCore> core;
  std::optional<TaskMsg> task;  // running
  Clock::time_point started, ends;
  EncodedOutcome outcome;
  bool done = false;
};

EncodedOutcome failure(const std::string& text, int rank) {
  return EncodedOutcome::failure(std::make_exception_ptr(Error(text)), rank);
}

class Host {
 public:
  Host(Router& r, const MpiOptions& opts) : router_(r), link_(r) {
    const EmulationPlan& p = r.plan();
    const Topology& t = p.tree();
    index_.assign(static_cast<std::size_t>(t.size()), -1);
    for (const int v : p.hosted_by(r.channel().rank())) {
      if (t.role(v) == Role::submaster) {
        index_[static_cast<std::size_t>(v)] = static_cast<std::int32_t>(subs_.size());
        subs_.push_back(std::make_unique<SubmasterNode>(t.place(v), v, static_cast<std::size_t>(opts.max_batch),
                                                        t.capacity(0)));
        sub_rank_.push_back(v);
      } else {
        index_[static_cast<std::size_t>(v)] = kWorker - static_cast<std::int32_t>(workers_.size());
        Worker w;
        w.vrank = v;
        w.parent = t.parent(v);
        w.core = std::make_unique<WorkerCore>(w.vrank, opts.prefetch, opts.max_prefetch,
                                              [](const TaskMsg&) -> EncodedOutcome { return {}; });
        workers_.push_back(std::move(w));
      }
    }
    dirty_sub_.assign(subs_.size(), 0);
  }

  int run() {
    const std::string host = serial::this_host();
    for (std::size_t i = 0; i < subs_.size(); ++i) {
      link_.vrank = sub_rank_[i];
      const RankPlace pl = router_.plan().tree().place(sub_rank_[i]);
      subs_[i]->hello(link_, "virtual rank " + std::to_string(sub_rank_[i]) + " on " + host + " (real rank " +
                                 std::to_string(router_.channel().rank()) + "): emulated sub-master of " +
                                 std::to_string(pl.children.size()) + " ranks, capacity " + std::to_string(pl.capacity));
    }
    for (auto& w : workers_) {
      UpMsg hello = w.core->take_up();
      hello.notes.push_back("virtual rank " + std::to_string(w.vrank) + " on " + host + " (real rank " +
                            std::to_string(router_.channel().rank()) + "): emulated worker on node " +
                            std::to_string(router_.plan().tree().node_of(w.vrank)));
      router_.send(w.vrank, w.parent, kTagUp, encode(hello));
    }
    Backoff backoff;
    const std::size_t total = subs_.size() + workers_.size();
    while (finished_ < total) {
      bool active = deliver();
      for (std::size_t i : std::exchange(subs_to_turn_, {})) {  // those that got messages
        dirty_sub_[i] = 0;
        link_.vrank = sub_rank_[i];
        subs_[i]->turn(link_);
        if (subs_[i]->done()) finish_rank(sub_rank_[i], subs_[i]->status());
        active = true;
      }
      const auto now = Clock::now();
      for (std::size_t i : std::exchange(dirty_workers_, {})) step(i, now);
      while (!timers_.empty() && timers_.top().first <= now) {
        const std::size_t i = timers_.top().second;
        timers_.pop();
        step(i, now);
        active = true;
      }
      if (!dirty_workers_.empty()) active = true;
      router_.channel().progress();
      if (active) {
        backoff.reset();
      } else if (!timers_.empty() && backoff.next_sleep_us() > 0) {
        // Sleep no longer than the next task's end (or report).
        const auto until = std::min(timers_.top().first, now + std::chrono::microseconds(backoff.next_sleep_us()));
        std::this_thread::sleep_until(until);
        backoff.idle_counted();
      } else {
        backoff.idle();
      }
    }
    router_.channel().flush();
    return status_;
  }

 private:
  static constexpr std::int32_t kWorker = -2;  // index_ of worker i: kWorker - i

  // Delivers every message that has arrived, including those the deliveries produce.
  bool deliver() {
    bool any = false;
    int to = 0, from = 0, tag = 0;
    while (router_.next(to, from, tag, buf_)) {
      any = true;
      const std::int32_t ix = index_[static_cast<std::size_t>(to)];
      if (ix >= 0) {
        link_.vrank = to;
        subs_[static_cast<std::size_t>(ix)]->on_message(link_, from, tag, buf_);
        if (!dirty_sub_[static_cast<std::size_t>(ix)]) subs_to_turn_.push_back(static_cast<std::size_t>(ix));
        dirty_sub_[static_cast<std::size_t>(ix)] = 1;
        continue;
      }
      const auto i = static_cast<std::size_t>(kWorker - ix);
      Worker& w = workers_[i];
      if (tag == kTagShare && from == w.parent) continue;  // no task code to read it
      if (!(tag == kTagDown && from == w.parent) && !(tag == kTagDirect && from == 0))
        unexpected(to, from, tag, "emulated worker", w.parent);
      w.core->on_down(decode_down(buf_, from));
      dirty_workers_.push_back(i);
    }
    return any;
  }

  void start(Worker& w, Clock::time_point now) {
    std::optional<TaskMsg> t = w.core->start_next();
    if (!t)
      if (auto p = w.core->take_mpi_start()) t = std::move(p->task);
    if (!t) return;
    double seconds = 0;
    if (const EmulatedRun* run = emulated_run(t->app)) {
      try {
        EmulatedTask e = (*run)(t->args);
        seconds = e.seconds;
        w.outcome = e.error.empty() ? EncodedOutcome(std::move(e.result)) : failure(e.error, w.vrank);
      } catch (const std::exception& e) {
        w.outcome = EncodedOutcome::failure(std::current_exception(), w.vrank);
      }
    } else {
      w.outcome = failure("app '" + t->app + "' has no emulation: emulated workers run no task code; declare how "
                          "long its tasks take with parsl::mpi::emulate_app on every rank",
                          w.vrank);
    }
    if (!(seconds >= 0 && seconds <= 1e6)) seconds = 0;
    // The core stamped the start just now, after `now` was read: wake-ups counted from an
    // earlier time would come before its own start report and hand-back are due.
    w.started = std::max(now, Clock::now());
    w.ends = w.started + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(seconds));
    w.task = std::move(t);
  }

  void end(Worker& w, bool cancelled) {
    EmulationCounts& c = router_.counts();
    const double seconds = std::chrono::duration<double>(w.ends - w.started).count();
    if (cancelled)
      w.outcome = EncodedOutcome::failure(
          std::make_exception_ptr(TaskCancelled("task " + std::to_string(w.task->id) + " was cancelled while running")),
          w.vrank);
    (w.outcome.ok() ? c.tasks_done : c.tasks_failed) += 1;
    w.core->complete(*w.task, std::move(w.outcome), seconds);
    w.task.reset();
  }

  // What the real worker's two threads would have done by `now`: tasks held to their end,
  // the next started, reports, hand-backs, a message up, the bye.
  void step(std::size_t i, Clock::time_point now) {
    Worker& w = workers_[i];
    if (w.done) return;
    if (w.task && w.core->cancel_flag().load(std::memory_order_acquire)) end(w, true);
    for (;;) {
      if (w.task && now >= w.ends) end(w, false);
      if (!w.task) start(w, now);
      if (!w.task) break;
      now = std::max(now, Clock::now());  // a task of 0 s ends at once
      if (now < w.ends) break;
    }
    w.core->check_running(now);
    if (w.core->should_flush(now, kFlushAfter)) {
      UpMsg up = w.core->take_up();
      router_.counts().handed_back += static_cast<std::int64_t>(up.returned.size());
      router_.send(w.vrank, w.parent, kTagUp, encode(up));
    }
    if (w.core->control() != Control::none && w.core->idle()) {
      UpMsg bye = w.core->take_up();
      bye.bye = true;
      router_.send(w.vrank, w.parent, kTagUp, encode(bye));
      w.done = true;
      finish_rank(w.vrank, w.core->control() == Control::shutdown_error ? 1 : 0);
      w.core.reset();  // its memory back at once
      return;
    }
    if (!w.task) return;
    // Wake at the next moment the real worker would act on its own: the start report, the
    // hand-back of what waits behind a long task, the task's end.
    auto wake = w.ends;
    for (auto at : {w.started + WorkerCore::kReportStartAfter, w.started + WorkerCore::kHandBackAfter})
      if (at > now && at < wake) wake = at;
    timers_.emplace(wake, i);
  }

  void finish_rank(int vrank, int status) {
    ++finished_;
    const int level = std::min(router_.plan().tree().depth_of(vrank), EmulationCounts::kLevels - 1);
    router_.counts().byes[static_cast<std::size_t>(level)] += 1;
    if (status != 0) status_ = status;
  }

  Router& router_;
  HostedLink link_;
  std::vector<std::int32_t> index_;  // virtual rank -> sub-master index, or kWorker - worker index; -1 elsewhere
  std::vector<std::unique_ptr<SubmasterNode>> subs_;
  std::vector<int> sub_rank_;
  std::vector<char> dirty_sub_;
  std::vector<std::size_t> subs_to_turn_;
  std::vector<Worker> workers_;
  std::vector<std::size_t> dirty_workers_;
  using Timer = std::pair<Clock::time_point, std::size_t>;
  std::priority_queue<Timer, std::vector<Timer>, std::greater<>> timers_;
  std::string buf_;
  std::size_t finished_ = 0;
  int status_ = 0;
};

}  // namespace

int host_loop(Router& router, const MpiOptions& opts) { return Host(router, opts).run(); }

}  // namespace parsl::mpi::detail
