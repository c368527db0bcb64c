#pragma once
// Internal: the kernel's memo table.
#include <mutex>
#include <string>
#include <unordered_map>

#include "parsl/serial/content_hash.hpp"

namespace parsl::detail {

/// Results of cacheable apps by memo key. Thread-safe.
class MemoTable {
 public:
  bool lookup(const serial::ContentHash& key, std::string& out) const {
    std::lock_guard lock(mutex_);
    auto it = table_.find(key);
    if (it == table_.end()) return false;
    out = it->second;
    return true;
  }
  void store(const serial::ContentHash& key, std::string bytes) {
    std::lock_guard lock(mutex_);
    table_.insert_or_assign(key, std::move(bytes));
  }
  std::size_t size() const {
    std::lock_guard lock(mutex_);
    return table_.size();
  }

 private:
  mutable std::mutex mutex_;
  std::unordered_map<serial::ContentHash, std::string> table_;
};

}  // namespace parsl::detail
