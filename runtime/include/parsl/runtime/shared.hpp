#pragma once
/// @file
/// `parsl::share`: data that many tasks read, placed on the workers once and passed to apps
/// by handle.
///
///     const parsl::Shared<Reference> ref = parsl::share(load_reference());   // sent once
///     for (auto& frame : frames) results.push_back(compare(ref, frame));      // 8 bytes each
///
///     inline const auto compare = parsl::app("compare", [](const parsl::Shared<Reference>& ref,
///                                                          const Frame& f) { return diff(*ref, f); });
///
/// The value is serialized once, when shared, and sent to every worker of the executors that
/// run tasks elsewhere (MPI: down the tree, before any task submitted later). A worker decodes
/// it once, when a task first uses it, and every task there reads the same const object. When
/// the last handle on the submitting side is gone (including the copies tasks hold until
/// they are final), the workers drop it. Executors that run tasks in this process use the
/// value itself. A handle's id comes from its value's content hash: two shares of equal
/// values are one value on the workers, and memoization keys and checkpoints depend on the
/// value only.
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <typeinfo>

#include "parsl/runtime/errors.hpp"
#include "parsl/serial/codec.hpp"
#include "parsl/serial/content_hash.hpp"

namespace parsl {

namespace detail {

/// This process's shared values, by id. On the submitting side: each value itself. On a
/// worker: the bytes as they arrived, and the value decoded once on first use. Thread-safe.
class SharedStore {
 public:
  static SharedStore& instance();
  /// A value shared from this process (type name `type`); counts the shares of it. True
  /// for the first (the executors must be told), false for an equal value already held.
  bool acquire(std::uint64_t id, std::shared_ptr<const void> value, const char* type);
  /// One share of `id` gone; true when it was the last (the executors must be told).
  bool release(std::uint64_t id);
  /// A value's bytes, arrived from the submitting side.
  void put_bytes(std::uint64_t id, std::string bytes);
  void erase(std::uint64_t id);
  /// Values held (for tests and the log).
  std::size_t size() const;
  /// The value of `id` as `type`: the one held, or decoded by `decode` from its bytes (once;
  /// later calls get the same object). Waits up to `wait` for bytes that have not arrived.
  /// Throws TaskError naming the id when they do not, or when the type differs.
  std::shared_ptr<const void> get(std::uint64_t id, const char* type,
                                  const std::function<std::shared_ptr<const void>(const std::string&)>& decode,
                                  std::chrono::milliseconds wait);

 private:
  struct Impl;
  SharedStore();
  Impl* impl_;
};

/// Releases a shared value when the last handle on the submitting side goes.
struct ShareToken {
  std::uint64_t id;
  explicit ShareToken(std::uint64_t i) : id(i) {}
  ~ShareToken();
  ShareToken(const ShareToken&) = delete;
  ShareToken& operator=(const ShareToken&) = delete;
};

/// Registers a value whose encoding is `bytes` (content hash `hash`) with this process's
/// store and, the first time, with the current kernel's executors. Its id comes from the
/// hash, so equal values share one id, one copy on each worker and one memo key.
std::shared_ptr<ShareToken> share_bytes(std::shared_ptr<const void> value, const char* type, std::string bytes,
                                        const serial::ContentHash& hash);

}  // namespace detail

/// A handle to a value placed on the workers once (`parsl::share`). Copies are cheap; the
/// value is const. As an app parameter, take `const parsl::Shared<T>&` or `parsl::Shared<T>`.
template <class T>
class Shared {
 public:
  Shared() = default;
  const T& operator*() const { return *value(); }
  const T* operator->() const { return value().get(); }
  const T& get() const { return *value(); }
  std::uint64_t id() const noexcept { return token_ ? token_->id : id_; }
  explicit operator bool() const noexcept { return value_ != nullptr || id_ != 0 || token_ != nullptr; }

  template <class Archive>
  void save(Archive& ar) const {
    ar(id(), hash_);
  }
  template <class Archive>
  void load(Archive& ar) {
    ar(id_, hash_);
    value_.reset();
    token_.reset();
  }

 private:
  template <class U>
  friend Shared<std::decay_t<U>> share(U&& value);
  const std::shared_ptr<const T>& value() const {
    if (!value_ && id_ == 0) throw KernelError("parsl::Shared: an empty handle (not made by parsl::share)");
    if (!value_) {
      // On a worker: from the store, decoded once per process.
      auto v = detail::SharedStore::instance().get(
          id_, typeid(T).name(),
          [](const std::string& bytes) -> std::shared_ptr<const void> {
            return std::make_shared<const T>(serial::decode<T>(bytes));
          },
          std::chrono::seconds(60));
      value_ = std::static_pointer_cast<const T>(v);
    }
    return value_;
  }
  std::uint64_t id_ = 0;
  serial::ContentHash hash_;  // of the value's bytes
  mutable std::shared_ptr<const T> value_;
  std::shared_ptr<detail::ShareToken> token_;  // the submitting side's
};

/// Shares `value` with every worker of the current kernel's executors (see the file's
/// comment). Throws KernelError without a running kernel, and ConfigError when `T` cannot be
/// serialized.
template <class U>
Shared<std::decay_t<U>> share(U&& value) {
  using T = std::decay_t<U>;
  static_assert(serial::is_serializable_v<T>, "parsl::share: the type must be serializable with Cereal");
  auto v = std::make_shared<const T>(std::forward<U>(value));
  std::string bytes = serial::encode(*v);
  Shared<T> s;
  s.value_ = v;
  s.hash_ = serial::hash_bytes(bytes);
  s.token_ = detail::share_bytes(v, typeid(T).name(), std::move(bytes), s.hash_);
  return s;
}

}  // namespace parsl
