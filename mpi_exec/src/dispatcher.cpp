#include "parsl/mpi_exec/dispatcher.hpp"

#include <algorithm>

namespace parsl::mpi {

Dispatcher::Dispatcher(std::vector<int> children, std::size_t max_batch, bool at_root)
    : children_(std::move(children)),
      credit_(children_.size(), 0),
      said_bye_(children_.size(), false),
      cancels_(children_.size()),
      max_batch_(std::max<std::size_t>(1, max_batch)),
      at_root_(at_root) {
  for (std::size_t i = 0; i < children_.size(); ++i) index_[children_[i]] = i;
}

void Dispatcher::push_task(TaskMsg&& task, TaskHandle handle) {
  Where& w = where_[task.id];
  if (w.child == kHere && w.attempt != 0) queue_.remove_queued(task.id);  // a newer try replaces a queued one
  w = Where{kHere, task.attempt, std::move(handle)};
  queue_.push(std::move(task));
}

void Dispatcher::push_tasks(std::vector<TaskMsg>&& tasks) {
  for (auto& t : tasks) push_task(std::move(t));
}

void Dispatcher::cancel(std::uint64_t id) {
  auto it = where_.find(id);
  if (it == where_.end()) return;
  if (it->second.child == kHere) {
    queue_.remove_queued(id);
  } else {
    cancels_[static_cast<std::size_t>(it->second.child)].push_back(id);
    ++cancels_pending_;
  }
  where_.erase(it);
}

void Dispatcher::on_up(int child, UpMsg&& msg) {
  auto it = index_.find(child);
  if (it == index_.end())
    throw ProtocolError("result message from rank " + std::to_string(child) + ", which is not a child of this rank");
  const std::size_t i = it->second;
  if (said_bye_[i])
    throw ProtocolError("result message from rank " + std::to_string(child) + " after it said bye");
  credit_[i] += msg.credit;
  granted_ += msg.credit;
  credit_up_ += msg.credit;  // transparent: what the subtree can take, the parent may send
  for (auto& e : msg.events) {
    auto w = where_.find(e.id);
    const bool live = w != where_.end() && w->second.attempt == e.attempt;
    TaskHandle h;
    if (live) {
      if (e.kind == EventKind::started || e.kind == EventKind::usage) {  // the try goes on
        if (at_root_) h = w->second.handle;
      } else {
        h = std::move(w->second.handle);
        where_.erase(w);
      }
    }
    if (!at_root_)
      events_.push_back(std::move(e));  // rank 0 decides what a stale event means
    else if (live)
      outcomes_.push_back(Outcome{std::move(e), std::move(h)});
  }
  for (auto& t : msg.returned) {
    // Queued again only if this is still the try we sent that way: a task cancelled (or
    // retried) since is dropped here.
    auto w = where_.find(t.id);
    if (w == where_.end() || w->second.attempt != t.attempt || w->second.child != static_cast<int>(i)) continue;
    w->second.child = kHere;
    queue_.push(std::move(t));
  }
  for (auto& n : msg.notes) notes_.push_back(std::move(n));
  if (msg.notes_dropped > 0) notes_dropped_ += msg.notes_dropped;
  if (msg.bye) {
    said_bye_[i] = true;
    ++byes_;
  }
}

std::vector<std::pair<int, DownMsg>> Dispatcher::dispatch() {
  std::vector<std::pair<int, DownMsg>> out;
  // Called on every turn of a rank's loop: with nothing queued and no cancel to send, there
  // is nothing to look at (a sub-master may have 158 children).
  if (queue_.empty() && cancels_pending_ == 0) return out;
  std::vector<std::size_t> with_credit;
  if (!queue_.empty())
    for (std::size_t i = 0; i < children_.size(); ++i)
      if (credit_[i] > 0 && !said_bye_[i]) with_credit.push_back(i);
  // Water-filling: each child gets a fair share of what is queued, never more than its credit
  // or a batch; what a child with little credit cannot take goes to those with more. (A share
  // fixed before looking at credit left tasks queued while a child with credit waited: with
  // unequal credit, a whole round of tasks waited for the next.)
  std::vector<std::size_t>& take = take_;  // kept between calls: no allocation per round
  take.assign(children_.size(), 0);
  auto cap = [&](std::size_t i) { return std::min(static_cast<std::size_t>(credit_[i]), max_batch_); };
  std::sort(with_credit.begin(), with_credit.end(), [&](std::size_t a, std::size_t b) { return cap(a) < cap(b); });
  std::size_t left = queue_.size();
  for (std::size_t k = 0; k < with_credit.size() && left > 0; ++k) {
    const std::size_t i = with_credit[k];
    const std::size_t children_left = with_credit.size() - k;
    const std::size_t share = std::max<std::size_t>(1, (left + children_left - 1) / children_left);
    take[i] = std::min({share, cap(i), left});
    left -= take[i];
  }
  // Most credit first takes the most urgent tasks.
  for (auto k = with_credit.rbegin(); k != with_credit.rend() && !queue_.empty(); ++k) {
    const std::size_t i = *k;
    const std::size_t n = std::min(take[i], queue_.size());
    if (n == 0) continue;
    DownMsg msg;
    msg.tasks.reserve(n);
    for (std::size_t j = 0; j < n; ++j) {
      msg.tasks.push_back(queue_.pop());
      where_[msg.tasks.back().id].child = static_cast<int>(i);
    }
    credit_[i] -= static_cast<std::int64_t>(n);
    cancels_pending_ -= cancels_[i].size();
    msg.cancel = std::exchange(cancels_[i], {});
    out.emplace_back(children_[i], std::move(msg));
  }
  // Cancels for children that got no tasks this round. A cancel always follows its task,
  // on the same path, so a child never sees a cancel before the task.
  for (std::size_t i = 0; i < children_.size(); ++i)
    if (!cancels_[i].empty() && !said_bye_[i]) {
      cancels_pending_ -= cancels_[i].size();
      DownMsg msg;
      msg.cancel = std::exchange(cancels_[i], {});
      out.emplace_back(children_[i], std::move(msg));
    }
  return out;
}

std::vector<TaskMsg> Dispatcher::take_unplaceable() {
  std::vector<TaskMsg> out = queue_.take_all();
  for (const auto& t : out) where_.erase(t.id);
  return out;
}

}  // namespace parsl::mpi
