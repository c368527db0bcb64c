#include "parsl/mpi_exec/root_core.hpp"

#include "parsl/runtime/try_runner.hpp"

namespace parsl::mpi {

RootCore::RootCore(std::vector<int> children, std::size_t max_batch, Apply apply, Machine machine)
    : RootCore(std::move(children), max_batch, std::move(apply), std::make_shared<const Machine>(std::move(machine))) {}

RootCore::RootCore(std::vector<int> children, std::size_t max_batch, Apply apply, std::shared_ptr<const Machine> machine)
    : d_(std::move(children), max_batch, /*at_root=*/true),
      placer_(std::move(machine)),
      apply_(apply ? std::move(apply) : Apply([this](const Event& e, const TaskHandle& h) { report(e, h, &places_); })) {}

void RootCore::set_worker_places(const Machine& machine, bool pinned) {
  for (const auto& node : machine.nodes()) {
    const int n = static_cast<int>(node.workers.size());
    for (int local = 0; local < n; ++local) {
      const int rank = node.workers[static_cast<std::size_t>(local)];
      if (rank < 0) continue;
      if (places_.size() <= static_cast<std::size_t>(rank)) places_.resize(static_cast<std::size_t>(rank) + 1);
      WorkerPlace& p = places_[static_cast<std::size_t>(rank)];
      p.host = node.hw.host;
      p.cores.clear();
      if (!pinned) continue;
      // "0-3", or "0,2,5-7" for a block that is not one run of cores.
      const auto block = node.blocks[static_cast<std::size_t>(local)];
      for (std::size_t i = 0; i < block.size();) {
        std::size_t j = i;
        while (j + 1 < block.size() && block[j + 1] == block[j] + 1) ++j;
        p.cores += (p.cores.empty() ? "" : ",") + std::to_string(block[i]);
        if (j > i) p.cores += "-" + std::to_string(block[j]);
        i = j + 1;
      }
    }
  }
}

void RootCore::submit(TaskMsg&& task, TaskHandle handle) {
  if (handle && !handle.live()) return;  // cancelled before it reached the tree
  if (task.mpi || !task.res.plain())
    placer_.submit(std::move(task), std::move(handle));
  else
    d_.push_task(std::move(task), std::move(handle));
}

void RootCore::cancel(std::uint64_t id) {
  d_.cancel(id);
  placer_.cancel(id);
}

void RootCore::apply_placed() {
  for (auto& o : placer_.take_outcomes()) {
    if (o.event.kind != EventKind::started && o.event.kind != EventKind::usage) ++results_in_;
    apply_(o.event, o.handle);
  }
}

std::vector<std::pair<int, DownMsg>> RootCore::direct() {
  if (placer_.idle()) return {};
  auto out = placer_.take_direct();
  apply_placed();  // tries that can never be placed fail here
  messages_out_ += out.size();
  for (const auto& [rank, msg] : out) tasks_out_ += msg.placed.size();
  return out;
}

void RootCore::on_up(int child, UpMsg&& msg) {
  ++messages_in_;
  // Events of placed tasks go to the placer; the rest to the dispatcher.
  if (!placer_.idle()) {
    std::erase_if(msg.events, [&](const Event& e) { return placer_.on_event(e); });
    apply_placed();
  }
  d_.on_up(child, std::move(msg));
  for (auto& o : d_.take_outcomes()) {
    if (o.event.kind != EventKind::started && o.event.kind != EventKind::usage) ++results_in_;
    apply_(o.event, o.handle);
  }
}

std::vector<std::pair<int, DownMsg>> RootCore::dispatch() {
  auto out = d_.dispatch();
  for (const auto& [child, msg] : out) {
    tasks_out_ += msg.tasks.size();
    ++messages_out_;
  }
  return out;
}

std::string RootCore::traffic() const {
  return "rank 0 sent " + std::to_string(tasks_out_) + " tasks in " + std::to_string(messages_out_) +
         " messages and received " + std::to_string(results_in_) + " results in " + std::to_string(messages_in_) +
         " messages";
}

void RootCore::report(const Event& e, const TaskHandle& h, const std::vector<WorkerPlace>* places) {
  if (!h) return;
  auto ran_on = [&](std::int64_t ended_us) {
    if (e.started_us <= 0) return;  // never ran (cancelled before it started, not placeable)
    static const WorkerPlace nowhere;
    const WorkerPlace& p =
        places && e.worker >= 0 && static_cast<std::size_t>(e.worker) < places->size() ? (*places)[e.worker] : nowhere;
    h.ran_on(e.worker, p.host, p.cores, e.started_us, ended_us);
  };
  switch (e.kind) {
    case EventKind::ready:  // placement bookkeeping, not a task's news
      return;
    case EventKind::usage:
      h.report_usage(decode_usage(e.payload, e.worker));
      return;
    case EventKind::started:
      ran_on(0);
      h.mark_running(e.seconds);
      return;
    case EventKind::succeeded:
      ran_on(e.started_us + static_cast<std::int64_t>(e.seconds * 1e6));
      h.complete_encoded(e.payload);
      return;
    case EventKind::failed:
      ran_on(e.started_us + static_cast<std::int64_t>(e.seconds * 1e6));
      h.fail(EncodedOutcome::encoded_failure(e.payload)
                 .error("task " + std::to_string(e.id) + " on rank " + std::to_string(e.worker)));
      return;
  }
}

}  // namespace parsl::mpi
