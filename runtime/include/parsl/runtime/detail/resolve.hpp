#pragma once
/// @file
/// Finding futures inside app arguments and replacing them by their values.
/// Supported containers: AppFuture<T> itself, std::vector, std::array, std::pair,
/// std::tuple, and the mapped values of std::map and std::unordered_map.

#include <array>
#include <cstddef>
#include <map>
#include <tuple>
#include <type_traits>
#include <unordered_map>
#include <utility>
#include <vector>

#include "parsl/runtime/app_future.hpp"

namespace parsl::detail {

template <class T>
struct resolve_traits {
  using type = T;
  static constexpr bool has_futures = false;
};

template <class T>
using resolved_t = typename resolve_traits<std::decay_t<T>>::type;
template <class T>
inline constexpr bool has_futures_v = resolve_traits<std::decay_t<T>>::has_futures;

template <class T>
struct resolve_traits<AppFuture<T>> {
  static_assert(!std::is_void_v<T>,
                "an AppFuture<void> cannot be an app argument: it has no value. Wait for it, or "
                "return a value (e.g. int 0) from the app it comes from");
  using type = T;
  static constexpr bool has_futures = true;
};
template <class T, class A>
struct resolve_traits<std::vector<T, A>> {
  using type = std::vector<resolved_t<T>>;
  static constexpr bool has_futures = has_futures_v<T>;
};
template <class T, std::size_t N>
struct resolve_traits<std::array<T, N>> {
  using type = std::array<resolved_t<T>, N>;
  static constexpr bool has_futures = has_futures_v<T>;
};
template <class A, class B>
struct resolve_traits<std::pair<A, B>> {
  using type = std::pair<resolved_t<A>, resolved_t<B>>;
  static constexpr bool has_futures = has_futures_v<A> || has_futures_v<B>;
};
template <class... Ts>
struct resolve_traits<std::tuple<Ts...>> {
  using type = std::tuple<resolved_t<Ts>...>;
  static constexpr bool has_futures = (has_futures_v<Ts> || ...);
};
template <class K, class V, class C, class A>
struct resolve_traits<std::map<K, V, C, A>> {
  using type = std::map<K, resolved_t<V>, C>;
  static constexpr bool has_futures = has_futures_v<V>;
};
template <class K, class V, class H, class E, class A>
struct resolve_traits<std::unordered_map<K, V, H, E, A>> {
  using type = std::unordered_map<K, resolved_t<V>, H, E>;
  static constexpr bool has_futures = has_futures_v<V>;
};

[[noreturn]] void throw_empty_future_argument();

/// Calls `fn(TaskRecord&)` for every future inside `v`. Throws KernelError for an empty
/// (default-constructed) future.
template <class T, class Fn>
void for_each_future(const T& v, Fn& fn) {
  using D = std::decay_t<T>;
  if constexpr (!has_futures_v<D>) {
    return;
  } else if constexpr (requires { typename D::value_type; requires std::is_same_v<D, AppFuture<typename D::value_type>>; }) {
    auto record = record_of(v);
    if (!record) throw_empty_future_argument();
    fn(*record);
  } else if constexpr (requires { std::tuple_size<D>::value; }) {  // pair, tuple, array
    std::apply([&](const auto&... e) { (for_each_future(e, fn), ...); }, v);
  } else if constexpr (requires { typename D::mapped_type; }) {
    for (const auto& kv : v) for_each_future(kv.second, fn);
  } else {
    for (const auto& e : v) for_each_future(e, fn);
  }
}

/// Returns `v` with every future replaced by its value (all futures must be done and
/// successful). Plain values are moved, futures' values copied.
template <class T>
resolved_t<T> resolve_value(T&& v) {
  using D = std::decay_t<T>;
  if constexpr (!has_futures_v<D>) {
    return std::forward<T>(v);
  } else if constexpr (requires { typename D::value_type; requires std::is_same_v<D, AppFuture<typename D::value_type>>; }) {
    return v.get();
  } else if constexpr (requires { std::tuple_size<D>::value; } && !requires { typename D::value_type; }) {
    // pair and tuple
    return std::apply([](auto&&... e) { return resolved_t<D>(resolve_value(std::forward<decltype(e)>(e))...); },
                      std::forward<T>(v));
  } else if constexpr (requires { std::tuple_size<D>::value; }) {
    // std::array
    resolved_t<D> out{};
    for (std::size_t i = 0; i < v.size(); ++i) out[i] = resolve_value(std::move(v[i]));
    return out;
  } else if constexpr (requires { typename D::mapped_type; }) {
    resolved_t<D> out;
    for (auto& kv : v) out.emplace(kv.first, resolve_value(std::move(kv.second)));
    return out;
  } else {
    resolved_t<D> out;
    out.reserve(v.size());
    for (auto& e : v) out.push_back(resolve_value(std::move(e)));
    return out;
  }
}

}  // namespace parsl::detail
