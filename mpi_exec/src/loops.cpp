#include "loops.hpp"

#include <chrono>
#include <cstdlib>
#include <unordered_map>

#include "parsl/mpi_exec/dispatcher.hpp"
#include "parsl/mpi_exec/worker_core.hpp"
#include "parsl/runtime/errors.hpp"
#include "parsl/runtime/exception_registry.hpp"
#include "parsl/serial/codec.hpp"
#include "parsl/serial/remote_error.hpp"
#include "pinning.hpp"

namespace parsl::mpi::detail {

namespace {
using Clock = std::chrono::steady_clock;
constexpr auto kFlushAfter = std::chrono::microseconds(1000);
constexpr std::size_t kFlushEvents = 256;

[[noreturn]] void unexpected(int me, int source, int tag, const char* role, int parent) {
  throw ProtocolError("rank " + std::to_string(me) + " (" + role + ") got a message with tag " + std::to_string(tag) +
                      " from rank " + std::to_string(source) + "; it takes task messages only from its parent, rank " +
                      std::to_string(parent));
}
}  // namespace

int worker_loop(Channel& ch, const Topology& topo, const MpiOptions& opts) {
  const RankPlace& me = topo.place(ch.rank());
  setenv("PARSL_WORKER_RANK", std::to_string(ch.rank()).c_str(), 1);
  setenv("PARSL_WORKER_COUNT", std::to_string(topo.workers()).c_str(), 1);
  setenv("PARSL_NODE", std::to_string(me.node).c_str(), 1);
  setenv("PARSL_HOST", serial::this_host().c_str(), 1);
  const std::string binding = pin_worker(me.local_worker, me.node_workers, opts.pin);

  WorkerCore core(ch.rank(), opts.prefetch, opts.max_prefetch);
  UpMsg hello = core.take_up();
  hello.notes.push_back("rank " + std::to_string(ch.rank()) + " on " + serial::this_host() + ": worker on node " +
                        std::to_string(me.node) + ", " + binding);
  ch.send(me.parent, kTagUp, encode(hello));

  Backoff backoff;
  std::string buf;
  int source = 0, tag = 0;
  auto last_flush = Clock::now();
  for (;;) {
    bool active = false;
    while (ch.try_receive(source, tag, buf)) {
      if (tag != kTagDown || source != me.parent) unexpected(ch.rank(), source, tag, "worker", me.parent);
      core.on_down(decode_down(buf, source));
      active = true;
    }
    if (core.has_work()) {
      core.run_one();
      active = true;
    }
    const bool drained = !core.has_work();
    if (core.has_up() &&
        (drained || core.events_waiting() >= kFlushEvents || Clock::now() - last_flush > kFlushAfter)) {
      ch.send(me.parent, kTagUp, encode(core.take_up()));
      last_flush = Clock::now();
    }
    if (core.control() != Control::none && drained) {
      UpMsg bye = core.take_up();
      bye.bye = true;
      ch.send(me.parent, kTagUp, encode(bye));
      ch.flush();
      return core.control() == Control::shutdown_error ? 1 : 0;
    }
    ch.progress();
    if (active)
      backoff.reset();
    else
      backoff.idle();
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

int submaster_loop(Channel& ch, const Topology& topo, const MpiOptions& opts) {
  const RankPlace& me = topo.place(ch.rank());
  Dispatcher d(me.children, static_cast<std::size_t>(opts.max_batch));
  UpMsg hello;  // credit comes from the children's own first messages, passed up as they arrive
  hello.notes.push_back("rank " + std::to_string(ch.rank()) + " on " + serial::this_host() + ": sub-master of " +
                        std::to_string(me.children.size()) + " ranks, capacity " + std::to_string(me.capacity));
  ch.send(me.parent, kTagUp, encode(hello));

  Control control = Control::none;
  bool forwarded = false;
  Backoff backoff;
  std::string buf;
  int source = 0, tag = 0;
  for (;;) {
    bool active = false;
    while (ch.try_receive(source, tag, buf)) {
      active = true;
      if (tag == kTagDown && source == me.parent) {
        DownMsg m = decode_down(buf, source);
        d.push_tasks(std::move(m.tasks));
        if (m.control != Control::none) control = m.control;
      } else if (tag == kTagUp) {
        d.on_up(source, decode_up(buf, source));
      } else {
        unexpected(ch.rank(), source, tag, "sub-master", me.parent);
      }
    }
    for (auto& [child, msg] : d.dispatch()) {
      ch.send(child, kTagDown, encode(msg));
      active = true;
    }
    // Everything that arrived this round goes up in one message.
    if (d.has_events()) ch.send(me.parent, kTagUp, encode(up_from(d)));
    if (control != Control::none && !forwarded && d.queued() == 0) {
      DownMsg stop;
      stop.control = control;
      for (int c : me.children) ch.send(c, kTagDown, encode(stop));
      forwarded = true;
    }
    if (forwarded && d.finished_children() == me.children.size()) {
      UpMsg bye = up_from(d);
      bye.bye = true;
      ch.send(me.parent, kTagUp, encode(bye));
      ch.flush();
      return control == Control::shutdown_error ? 1 : 0;
    }
    ch.progress();
    if (active)
      backoff.reset();
    else
      backoff.idle();
  }
}

void root_loop(Channel& ch, const Topology& topo, MpiExecutor* exec, Logger* log,
               const std::function<bool()>& failed) {
  const RankPlace& me = topo.place(0);
  Dispatcher d(me.children, exec ? static_cast<std::size_t>(exec->options().max_batch) : 512);
  std::unordered_map<std::uint64_t, TaskHandle> inflight;
  Backoff backoff;
  std::string buf;
  int source = 0, tag = 0;
  bool stop = exec == nullptr;
  std::uint64_t messages_in = 0, messages_out = 0, tasks_out = 0, results_in = 0;

  auto handle_events = [&] {
    for (auto& n : d.take_notes())
      if (log) log->info(n);
    for (auto& e : d.take_events()) {
      auto it = inflight.find(e.id);
      if (it == inflight.end() || it->second.attempt() != e.attempt) continue;  // an abandoned try
      if (e.kind == EventKind::started) {
        it->second.mark_running();
        continue;
      }
      TaskHandle h = std::move(it->second);
      inflight.erase(it);
      ++results_in;
      if (e.kind == EventKind::succeeded) {
        h.complete_encoded(e.payload);
      } else {
        std::exception_ptr error;
        try {
          error = rethrow_remote(serial::decode<serial::RemoteError>(e.payload));
        } catch (const std::exception& bad) {
          error = std::make_exception_ptr(ProtocolError("task " + std::to_string(e.id) + " failed on rank " +
                                                        std::to_string(e.worker) + ", but its error report is unreadable: " +
                                                        bad.what()));
        }
        h.fail(std::move(error));
      }
    }
  };

  while (!stop || !inflight.empty() || d.queued() > 0) {
    bool active = false;
    if (exec != nullptr) {
      const long wait_us = backoff.next_sleep_us();
      MpiExecutor::Pending p = exec->take(std::chrono::microseconds(wait_us));
      for (auto& [msg, handle] : p.tasks) {
        inflight[msg.id] = std::move(handle);
        d.push_task(std::move(msg));
        active = true;
      }
      stop = stop || p.stop;
    }
    while (ch.try_receive(source, tag, buf)) {
      if (tag != kTagUp) unexpected(0, source, tag, "root", -1);
      d.on_up(source, decode_up(buf, source));
      ++messages_in;
      active = true;
    }
    handle_events();
    for (auto& [child, msg] : d.dispatch()) {
      tasks_out += msg.tasks.size();
      ++messages_out;
      ch.send(child, kTagDown, encode(msg));
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
  if (log != nullptr)
    log->info("rank 0 sent " + std::to_string(tasks_out) + " tasks in " + std::to_string(messages_out) +
              " messages and received " + std::to_string(results_in) + " results in " + std::to_string(messages_in) +
              " messages");
  // Stop the tree and wait for every child's bye, so nothing is left unreceived.
  DownMsg stop_msg;
  stop_msg.control = failed() ? Control::shutdown_error : Control::shutdown;
  for (int c : me.children) ch.send(c, kTagDown, encode(stop_msg));
  backoff.reset();
  while (d.finished_children() < me.children.size()) {
    bool active = false;
    while (ch.try_receive(source, tag, buf)) {
      if (tag != kTagUp) unexpected(0, source, tag, "root", -1);
      d.on_up(source, decode_up(buf, source));
      active = true;
    }
    handle_events();
    ch.progress();
    if (active)
      backoff.reset();
    else
      backoff.idle();
  }
  ch.flush();
  if (exec != nullptr) exec->mark_stopped();
}

}  // namespace parsl::mpi::detail
