#include "parsl/mpi_exec/dispatcher.hpp"

#include <algorithm>

namespace parsl::mpi {

Dispatcher::Dispatcher(std::vector<int> children, std::size_t max_batch)
    : children_(std::move(children)),
      credit_(children_.size(), 0),
      said_bye_(children_.size(), false),
      max_batch_(std::max<std::size_t>(1, max_batch)) {
  for (std::size_t i = 0; i < children_.size(); ++i) index_[children_[i]] = i;
}

void Dispatcher::push_task(TaskMsg&& task) { queue_.push(std::move(task)); }

void Dispatcher::push_tasks(std::vector<TaskMsg>&& tasks) {
  for (auto& t : tasks) push_task(std::move(t));
}

void Dispatcher::on_up(int child, UpMsg&& msg) {
  auto it = index_.find(child);
  if (it == index_.end())
    throw ProtocolError("result message from rank " + std::to_string(child) + ", which is not a child of this rank");
  const std::size_t i = it->second;
  if (said_bye_[i])
    throw ProtocolError("result message from rank " + std::to_string(child) + " after it said bye");
  credit_[i] += msg.credit;
  credit_up_ += msg.credit;  // transparent: what the subtree can take, the parent may send
  for (auto& e : msg.events) events_.push_back(std::move(e));
  for (auto& n : msg.notes) notes_.push_back(std::move(n));
  if (msg.bye) {
    said_bye_[i] = true;
    ++byes_;
  }
}

std::vector<std::pair<int, DownMsg>> Dispatcher::dispatch() {
  std::vector<std::pair<int, DownMsg>> out;
  if (queue_.empty()) return out;
  std::vector<std::size_t> with_credit;
  for (std::size_t i = 0; i < children_.size(); ++i)
    if (credit_[i] > 0 && !said_bye_[i]) with_credit.push_back(i);
  if (with_credit.empty()) return out;
  // Most credit first, so spare capacity fills evenly; each child gets a fair share of what is
  // queued (at least one task), never more than its credit or a batch.
  std::sort(with_credit.begin(), with_credit.end(),
            [&](std::size_t a, std::size_t b) { return credit_[a] > credit_[b]; });
  for (std::size_t k = 0; k < with_credit.size() && !queue_.empty(); ++k) {
    const std::size_t i = with_credit[k];
    const std::size_t children_left = with_credit.size() - k;
    const std::size_t share = std::max<std::size_t>(1, (queue_.size() + children_left - 1) / children_left);
    const std::size_t n = std::min({share, static_cast<std::size_t>(credit_[i]), max_batch_, queue_.size()});
    DownMsg msg;
    msg.tasks.reserve(n);
    for (std::size_t j = 0; j < n; ++j) msg.tasks.push_back(queue_.pop());
    credit_[i] -= static_cast<std::int64_t>(n);
    out.emplace_back(children_[i], std::move(msg));
  }
  return out;
}

}  // namespace parsl::mpi
