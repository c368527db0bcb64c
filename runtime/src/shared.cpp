#include "parsl/runtime/shared.hpp"

#include <condition_variable>
#include <mutex>
#include <unordered_map>

#include "parsl/runtime/data_flow_kernel.hpp"

namespace parsl {

namespace detail {

struct SharedStore::Impl {
  struct Entry {
    std::string bytes;                  // until decoded
    std::shared_ptr<const void> value;  // the value itself
    std::string type;                   // its type's name, once known
    std::size_t shares = 0;             // the submitting side: handles' tokens alive
  };
  mutable std::mutex mutex;
  std::condition_variable arrived;
  std::unordered_map<std::uint64_t, Entry> entries;
};

SharedStore::SharedStore() : impl_(new Impl) {}

SharedStore& SharedStore::instance() {
  static SharedStore* store = new SharedStore;  // never destroyed: tokens may outlive statics
  return *store;
}

bool SharedStore::acquire(std::uint64_t id, std::shared_ptr<const void> value, const char* type) {
  bool first;
  {
    std::lock_guard lock(impl_->mutex);
    auto& e = impl_->entries[id];
    first = e.shares++ == 0;
    if (!e.value) e.value = std::move(value), e.type = type;
  }
  impl_->arrived.notify_all();
  return first;
}

bool SharedStore::release(std::uint64_t id) {
  std::lock_guard lock(impl_->mutex);
  auto it = impl_->entries.find(id);
  if (it == impl_->entries.end() || --it->second.shares > 0) return false;
  impl_->entries.erase(it);
  return true;
}

void SharedStore::put_bytes(std::uint64_t id, std::string bytes) {
  {
    std::lock_guard lock(impl_->mutex);
    auto& e = impl_->entries[id];
    if (!e.value) e.bytes = std::move(bytes);
  }
  impl_->arrived.notify_all();
}

void SharedStore::erase(std::uint64_t id) {
  std::lock_guard lock(impl_->mutex);
  impl_->entries.erase(id);
}

std::size_t SharedStore::size() const {
  std::lock_guard lock(impl_->mutex);
  return impl_->entries.size();
}

std::shared_ptr<const void> SharedStore::get(std::uint64_t id, const char* type,
                                             const std::function<std::shared_ptr<const void>(const std::string&)>& decode,
                                             std::chrono::milliseconds wait) {
  std::unique_lock lock(impl_->mutex);
  // A task can reach a worker before the value does (a placed task comes straight from rank
  // 0, the value down the tree): wait for it.
  if (!impl_->arrived.wait_for(lock, wait, [&] { return impl_->entries.count(id) > 0; }))
    throw KernelError("shared value " + std::to_string(id) + " is not on this worker (" +
                      std::to_string(wait.count() / 1000) +
                      " s): it was released before a task that uses it ran, or never sent");
  auto& e = impl_->entries[id];
  if (!e.type.empty() && e.type != type)
    throw KernelError("shared value " + std::to_string(id) + " is a " + e.type + ", not the " + type +
                      " the app's parameter asks for");
  if (!e.value) {
    e.value = decode(e.bytes);  // once per process; every task then reads the same object
    e.type = type;
    std::string().swap(e.bytes);
  }
  return e.value;
}

ShareToken::~ShareToken() {
  if (!SharedStore::instance().release(id)) return;  // another handle of an equal value lives
  if (DataFlowKernel* dfk = DataFlowKernel::current_or_null()) dfk->unshare_with_executors(id);
}

std::shared_ptr<ShareToken> share_bytes(std::shared_ptr<const void> value, const char* type, std::string bytes,
                                        const serial::ContentHash& hash) {
  DataFlowKernel& dfk = DataFlowKernel::current();  // throws KernelError without one
  const std::uint64_t id = (hash.low ^ hash.high) | 1;  // never 0 (an empty handle)
  const bool first = SharedStore::instance().acquire(id, std::move(value), type);
  auto token = std::make_shared<ShareToken>(id);
  if (first) dfk.share_with_executors(id, std::make_shared<const std::string>(std::move(bytes)));
  return token;
}

}  // namespace detail

void DataFlowKernel::share_with_executors(std::uint64_t id, const std::shared_ptr<const std::string>& bytes) {
  for (Executor* e : user_executors_) e->share(id, bytes);
}

void DataFlowKernel::unshare_with_executors(std::uint64_t id) noexcept {
  for (Executor* e : user_executors_) {
    try {
      e->unshare(id);
    } catch (...) {  // releasing is best effort: the worker keeps the bytes until it ends
    }
  }
}

}  // namespace parsl
