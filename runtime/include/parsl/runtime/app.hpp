#pragma once
/// @file
/// Declaring apps: `parsl::app(name, fn)` and `parsl::join_app(name, fn)`.

#include <algorithm>
#include <atomic>
#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <tuple>
#include <type_traits>
#include <utility>
#include <vector>

#include "parsl/runtime/app_def.hpp"
#include "parsl/runtime/app_future.hpp"
#include "parsl/runtime/app_registry.hpp"
#include "parsl/runtime/data_flow_kernel.hpp"
#include "parsl/runtime/detail/callable_traits.hpp"
#include "parsl/runtime/detail/resolve.hpp"
#include "parsl/runtime/errors.hpp"
#include "parsl/serial/codec.hpp"

namespace parsl {

namespace detail {
template <class F, class Params>
struct BashWrapper;  // bash_app.hpp
template <class F, class Params>
struct MpiBody;  // parsl/mpi_exec/mpi_app.hpp
template <class F>
struct is_bash_wrapper : std::false_type {};
template <class F>
struct is_mpi_body : std::false_type {};
template <class F, class Params>
struct is_mpi_body<MpiBody<F, Params>> : std::true_type {};
template <class F, class Params>
struct is_bash_wrapper<BashWrapper<F, Params>> : std::true_type {};
}  // namespace detail

namespace detail {

template <class Tuple>
struct decay_tuple;
template <class... P>
struct decay_tuple<std::tuple<P...>> {
  using type = std::tuple<std::decay_t<P>...>;
};
template <class Tuple>
using decay_tuple_t = typename decay_tuple<Tuple>::type;

/// Passes a stored argument to the app without letting the app consume it: a retry must
/// see the same value. `T&&` parameters receive a fresh copy.
template <class P, class V>
decltype(auto) pass(V& v) {
  if constexpr (std::is_rvalue_reference_v<P>) {
    return std::decay_t<P>(v);
  } else {
    return static_cast<const V&>(v);
  }
}

template <class SigParams, class Fn, class Params, std::size_t... I>
decltype(auto) invoke_app_impl(const Fn& fn, Params& params, std::index_sequence<I...>) {
  return fn(pass<std::tuple_element_t<I, SigParams>>(std::get<I>(params))...);
}
template <class SigParams, class Fn, class Params>
decltype(auto) invoke_app(const Fn& fn, Params& params) {
  return invoke_app_impl<SigParams>(fn, params, std::make_index_sequence<std::tuple_size_v<Params>>{});
}

template <class F>
struct TypedAppDef final : AppDef {
  explicit TypedAppDef(F f) : fn(std::move(f)) {}
  F fn;
};

/// What a join app's body returns, and what its outer future then holds.
template <class Inner>
struct join_traits {
  static constexpr bool valid = false;
};
template <class U>
struct join_traits<AppFuture<U>> {
  static constexpr bool valid = true;
  using value = U;
};
template <class U, class A>
struct join_traits<std::vector<AppFuture<U>, A>> {
  static constexpr bool valid = !std::is_void_v<U>;
  using value = std::vector<U>;
};

/// The checks behind an app call. When one fails, the compiler's note on the instantiation
/// `check_argument<index, parameter type, argument type>` names the offending argument.
template <std::size_t I, class Param, class Arg>
struct check_argument {
  static constexpr bool ok = std::is_constructible_v<std::decay_t<Param>, resolved_t<Arg>>;
  static_assert(ok,
                "parsl: an app argument does not match the app's parameter. For an AppFuture<T> "
                "argument, T must convert to the parameter type. The instantiation "
                "check_argument<index, parameter type, argument type> in this message names it.");
};
template <class SigParams, class... A, std::size_t... I>
constexpr bool check_arguments(std::index_sequence<I...>) {
  return (check_argument<I, std::tuple_element_t<I, SigParams>, A>::ok && ...);
}

/// Shared part of function and join tasks: the arguments before and after resolution.
template <class T, class F, class Args>
class ArgumentHolder : public ValueTask<T> {
 public:
  using Sig = app_signature<F>;
  using SigParams = typename Sig::params;
  using Params = decay_tuple_t<SigParams>;

  ArgumentHolder(std::shared_ptr<const AppDef> def, Args&& args)
      : ValueTask<T>(std::move(def)), args_(std::move(args)) {}
  ArgumentHolder(std::shared_ptr<const AppDef> def, Params&& params)
      : ValueTask<T>(std::move(def)), params_(std::move(params)) {}

  void for_each_dependency(const std::function<void(TaskRecord&)>& fn) const override {
    if (args_) std::apply([&](const auto&... a) { (for_each_future(a, fn), ...); }, *args_);
  }
  void resolve_arguments() override {
    if (!args_) return;
    params_.emplace(std::apply([](auto&&... a) { return Params(resolve_value(std::move(a))...); },
                               std::move(*args_)));
    args_.reset();
  }
  std::string encode_arguments() const override {
    if constexpr (serial::is_serializable_v<Params>) {
      return serial::encode(*params_);
    } else {
      this->throw_not_serializable("arguments");
    }
  }
  std::string encode_arguments_except(const std::vector<std::size_t>& skip) const override {
    if constexpr (serial::is_serializable_v<Params>) {
      std::string out;
      [&]<std::size_t... I>(std::index_sequence<I...>) {
        ((std::find(skip.begin(), skip.end(), I) == skip.end() ? serial::encode_into(out, std::get<I>(*params_))
                                                                : void()),
         ...);
      }(std::make_index_sequence<std::tuple_size_v<Params>>{});
      return out;
    } else {
      this->throw_not_serializable("arguments");
    }
  }
  void release_arguments() noexcept override {
    args_.reset();
    params_.reset();
  }

 protected:
  const F& fn() const noexcept { return static_cast<const TypedAppDef<F>&>(this->app()).fn; }
  decltype(auto) invoke() { return invoke_app<SigParams>(fn(), *params_); }

 private:
  std::optional<Args> args_;
  std::optional<Params> params_;
};

template <class F>
using function_result_t = std::decay_t<typename app_signature<F>::result>;

/// A call of a function app.
template <class F, class Args>
class FunctionTask final : public ArgumentHolder<function_result_t<F>, F, Args> {
  using R = function_result_t<F>;
  using Base = ArgumentHolder<R, F, Args>;

 public:
  using Base::Base;

  TryResult run_local(std::uint32_t attempt) noexcept override {
    bool claimed = false;
    try {
      if constexpr (std::is_void_v<R>) {
        this->invoke();
        if (!(claimed = this->claim(attempt))) return {TryOutcome::discarded, nullptr};
      } else {
        R r = this->invoke();
        if (!(claimed = this->claim(attempt))) return {TryOutcome::discarded, nullptr};
        this->value.emplace(std::move(r));
      }
      return {TryOutcome::succeeded, nullptr};
    } catch (...) {
      if (!claimed && !this->claim(attempt)) return {TryOutcome::discarded, nullptr};
      return {TryOutcome::failed, std::current_exception()};
    }
  }
};

template <class F>
using join_inner_t = std::decay_t<typename app_signature<F>::result>;
template <class F>
using join_result_t = typename join_traits<join_inner_t<F>>::value;

[[noreturn]] void throw_empty_join(std::uint64_t task_id, const std::string& app);

/// A call of a join app: the body runs kernel-side and returns inner futures; the task
/// completes when they all are final.
template <class F, class Args>
class JoinTask final : public ArgumentHolder<join_result_t<F>, F, Args> {
  using Inner = join_inner_t<F>;
  using R = join_result_t<F>;
  using Base = ArgumentHolder<R, F, Args>;

 public:
  using Base::Base;

  TryResult run_local(std::uint32_t attempt) noexcept override {
    try {
      Inner inner = this->invoke();
      if (!this->claim(attempt)) return {TryOutcome::discarded, nullptr};
      inner_.emplace(std::move(inner));
      return {TryOutcome::joining, nullptr};
    } catch (...) {
      if (!this->claim(attempt)) return {TryOutcome::discarded, nullptr};
      return {TryOutcome::failed, std::current_exception()};
    }
  }

  void start_join(const std::shared_ptr<TaskRecord>& self) override {
    std::vector<std::shared_ptr<TaskRecord>> records;
    if constexpr (std::is_same_v<Inner, AppFuture<R>>) {
      if (!inner_->valid()) {
        inner_.reset();
        this->report_join(self, std::make_exception_ptr(JoinError(
                              this->id(), "the body of join app '" + this->app_name() +
                                              "' returned an empty AppFuture (no task to join)")));
        return;
      }
      records.push_back(record_of(*inner_));
    } else {
      for (std::size_t i = 0; i < inner_->size(); ++i) {
        if (!(*inner_)[i].valid()) {
          inner_.reset();
          this->report_join(self, std::make_exception_ptr(JoinError(
                                this->id(), "the body of join app '" + this->app_name() +
                                                "' returned an empty AppFuture at index " +
                                                std::to_string(i) + " (no task to join)")));
          return;
        }
        records.push_back(record_of((*inner_)[i]));
      }
    }
    if (records.empty()) {
      complete(self);
      return;
    }
    remaining_.store(static_cast<std::int64_t>(records.size()), std::memory_order_relaxed);
    for (auto& r : records) {
      r->on_done([this, self] {
        if (remaining_.fetch_sub(1, std::memory_order_acq_rel) == 1) complete(self);
      });
    }
  }

 private:
  void complete(const std::shared_ptr<TaskRecord>& self) {
    std::vector<JoinError::Failure> failures;
    if constexpr (std::is_same_v<Inner, AppFuture<R>>) {
      if (auto e = inner_->exception()) failures.push_back({inner_->task_id(), e});
    } else {
      for (const auto& f : *inner_)
        if (auto e = f.exception()) failures.push_back({f.task_id(), e});
    }
    std::exception_ptr error;
    if (!failures.empty()) {
      error = std::make_exception_ptr(JoinError(this->id(), std::move(failures)));
    } else {
      try {
        if constexpr (std::is_same_v<Inner, AppFuture<R>>) {
          if constexpr (!std::is_void_v<R>) this->value.emplace(inner_->get());
        } else {
          R out;
          out.reserve(inner_->size());
          for (const auto& f : *inner_) out.push_back(f.get());
          this->value.emplace(std::move(out));
        }
      } catch (...) {
        error = std::current_exception();
      }
    }
    inner_.reset();
    this->report_join(self, error);
  }

  std::optional<Inner> inner_;
  std::atomic<std::int64_t> remaining_{0};
};

[[noreturn]] void throw_app_problem(const std::string& name);

/// `app.with(options)`: calls `app` with per-call options. Holds a reference to the app,
/// so use it in the same expression or while the app lives (apps live at namespace scope).
template <class AppT, class Options, class Future>
class BoundCall {
 public:
  BoundCall(const AppT& app, Options options) : app_(app), options_(std::move(options)) {}
  template <class... A>
  Future operator()(A&&... args) const {
    return app_.call(options_, std::forward<A>(args)...);
  }

 private:
  const AppT& app_;
  Options options_;
};

template <class F, bool Join>
struct app_result {
  using type = function_result_t<F>;
};
template <class F>
struct app_result<F, true> {
  using type = join_result_t<F>;
};

}  // namespace detail

/// An app: a callable with a stable name. Calling it submits a task to the running
/// DataFlowKernel and returns its `AppFuture` at once. Arguments may be values or futures
/// (also inside std::vector, std::array, std::pair, std::tuple and map values); the task
/// runs with their values once all are done.
///
/// Declare apps once, at namespace scope, so every process of the binary has them under
/// the same name. The app leaves the registry when this object is destroyed. Not copyable
/// or movable (it is the registry entry). Calls are thread-safe.
///
/// @code
///   inline const auto square = parsl::app("square", [](int x) { return x * x; });
///   auto f = square(3);              // AppFuture<int>
///   auto g = square(f);              // depends on f
/// @endcode
template <class F, AppDef::Kind K>
class BasicApp {
  using Sig = detail::app_signature<F>;
  using SigParams = typename Sig::params;
  using Params = detail::decay_tuple_t<SigParams>;

  template <class... P>
  static constexpr bool params_ok(std::tuple<P...>*) {
    return (detail::valid_parameter_v<P> && ...);
  }
  static_assert(params_ok(static_cast<SigParams*>(nullptr)),
                "parsl: app parameters must be taken by value or by const reference (an app "
                "must not change its caller's values; a retry must see the same arguments)");

 public:
  using result_type = typename detail::app_result<F, K == AppDef::Kind::join>::type;
  using future_type = AppFuture<result_type>;

  BasicApp(std::string name, F fn, AppOptions options) {
    auto def = std::make_shared<detail::TypedAppDef<F>>(std::move(fn));
    def->name = std::move(name);
    def->options = std::move(options);
    def->kind = K;
    def->bash = detail::is_bash_wrapper<F>::value;
    def->mpi = detail::is_mpi_body<F>::value;
    def->arity = Sig::arity;
    if constexpr (K == AppDef::Kind::function) {
      constexpr bool ser = serial::is_serializable_v<Params> &&
                           (std::is_void_v<result_type> || serial::is_serializable_v<result_type>);
      def->serializable = ser;
      if constexpr (ser) {
        const detail::TypedAppDef<F>* d = def.get();
        def->invoke_encoded = [d](std::string_view bytes) -> std::string {
          Params params = serial::decode<Params>(bytes);
          if constexpr (std::is_void_v<result_type>) {
            detail::invoke_app<SigParams>(d->fn, params);
            return {};
          } else {
            return serial::encode(static_cast<const result_type&>(detail::invoke_app<SigParams>(d->fn, params)));
          }
        };
      }
    }
    def_ = def;
    registered_ = AppRegistry::instance().add(def_);
  }
  ~BasicApp() { AppRegistry::instance().remove(def_.get()); }
  BasicApp(const BasicApp&) = delete;
  BasicApp& operator=(const BasicApp&) = delete;

  const std::string& name() const noexcept { return def_->name; }
  const AppDef& definition() const noexcept { return *def_; }

  /// Submits a task; see the class comment.
  template <class... A>
  future_type operator()(A&&... args) const {
    return call(CallOptions{}, std::forward<A>(args)...);
  }

  /// A call with per-call options: `app.with({.walltime = 2s})(x)`.
  using Bound = detail::BoundCall<BasicApp, CallOptions, future_type>;
  Bound with(CallOptions options) const { return Bound(*this, std::move(options)); }

 private:
  friend Bound;
  template <class... A>
  future_type call(const CallOptions& options, A&&... args) const {
    static_assert(sizeof...(A) == Sig::arity, "parsl: wrong number of arguments in an app call");
    static_assert(detail::check_arguments<SigParams, A...>(std::make_index_sequence<sizeof...(A)>{}),
                  "parsl: app call rejected (see the check_argument error above)");
    if (!registered_) detail::throw_app_problem(def_->name);
    DataFlowKernel& dfk = DataFlowKernel::current();
    using Value = result_type;
    std::shared_ptr<detail::ValueTask<Value>> task;
    if constexpr (!(detail::has_futures_v<A> || ...)) {
      using Task = std::conditional_t<K == AppDef::Kind::function, detail::FunctionTask<F, std::tuple<>>,
                                      detail::JoinTask<F, std::tuple<>>>;
      task = std::make_shared<Task>(def_, Params(std::forward<A>(args)...));
    } else {
      // Refuse empty futures before anything is submitted.
      auto ignore = [](detail::TaskRecord&) {};
      (detail::for_each_future(args, ignore), ...);
      using Args = std::tuple<std::decay_t<A>...>;
      using Task = std::conditional_t<K == AppDef::Kind::function, detail::FunctionTask<F, Args>,
                                      detail::JoinTask<F, Args>>;
      task = std::make_shared<Task>(def_, Args(std::forward<A>(args)...));
    }
    dfk.submit(task, options);
    return future_type(std::move(task));
  }

  std::shared_ptr<detail::TypedAppDef<F>> def_;
  bool registered_ = false;
};

template <class F>
using App = BasicApp<F, AppDef::Kind::function>;
template <class F>
using JoinApp = BasicApp<F, AppDef::Kind::join>;

/// Declares a function app named `name`. `fn` must have one fixed signature (a function,
/// or a lambda that is not generic); its parameters are taken by value or const reference.
template <class F>
App<std::decay_t<F>> app(std::string name, F&& fn, AppOptions options = {}) {
  static_assert(detail::FixedSignature<F>,
                "parsl::app needs a callable with one fixed signature: a function, or a lambda "
                "with explicit parameter types (not `auto`)");
  return App<std::decay_t<F>>(std::move(name), std::forward<F>(fn), std::move(options));
}

/// Declares a join app: its body runs on the kernel's side, calls other apps and returns
/// an `AppFuture<T>` or a `std::vector<AppFuture<T>>`. Its own future completes with the
/// inner value (or vector of values) once they are all done, or fails with a JoinError
/// listing every inner failure.
template <class F>
JoinApp<std::decay_t<F>> join_app(std::string name, F&& fn, AppOptions options = {}) {
  static_assert(detail::FixedSignature<F>,
                "parsl::join_app needs a callable with one fixed signature (not a generic lambda)");
  static_assert(detail::join_traits<std::decay_t<typename detail::app_signature<std::decay_t<F>>::result>>::valid,
                "parsl::join_app: the body must return an AppFuture<T> or a "
                "std::vector<AppFuture<T>> (T not void); other values make no joinable task");
  return JoinApp<std::decay_t<F>>(std::move(name), std::forward<F>(fn), std::move(options));
}

}  // namespace parsl
