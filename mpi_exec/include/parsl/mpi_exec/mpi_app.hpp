#pragma once
/// @file
/// `parsl::mpi_app`: apps whose body is itself an MPI program of several ranks.

#include <mpi.h>

#include <string>
#include <tuple>
#include <type_traits>
#include <utility>

#include "parsl/runtime/app.hpp"

namespace parsl {

namespace mpi {
/// The communicator of the MPI task running on this thread; MPI_COMM_NULL outside one.
MPI_Comm task_comm() noexcept;

namespace detail {
/// Sets task_comm() for its lifetime.
class ScopedTaskComm {
 public:
  explicit ScopedTaskComm(MPI_Comm comm) noexcept;
  ~ScopedTaskComm();
  ScopedTaskComm(const ScopedTaskComm&) = delete;
  ScopedTaskComm& operator=(const ScopedTaskComm&) = delete;

 private:
  MPI_Comm saved_;
};
}  // namespace detail
}  // namespace mpi

namespace detail {
template <class F, class C, class... P>
struct MpiBody<F, std::tuple<C, P...>> {
  static_assert(std::is_same_v<std::decay_t<C>, MPI_Comm>,
                "parsl::mpi_app: the body's first parameter must be the task's communicator (MPI_Comm)");
  F fn;
  typename app_signature<F>::result operator()(P... args) const { return fn(mpi::task_comm(), std::forward<P>(args)...); }
};
}  // namespace detail

/// An MPI app: each call is one task of `AppOptions::ranks` ranks (per call:
/// `solve.with({.ranks = 4})(x)`), run on that many worker ranks at once, chosen on the
/// fewest nodes. On each of them the body runs with a communicator holding exactly those
/// ranks (built with MPI_Comm_create_group, freed after) and the same arguments; the task's
/// value is what rank 0 of that communicator returns, and a failure on any rank fails the
/// task (retries apply). The body runs on the worker's main thread, so it may call MPI under
/// MPI_THREAD_FUNNELED. While the task's workers are gathered, the others keep running
/// other tasks. A task larger than the job fails at submission with ConfigError.
///
/// Cancellation and walltime fail the future at once; the body, like a function app's,
/// runs on to its end (MPI gives no way to stop a collective). A rank that fails before a
/// collective leaves the others waiting in it: keep such failures inside the body, or give
/// the app a walltime.
///
/// @code
///   inline const auto total = parsl::mpi_app("total", [](MPI_Comm comm, int x) {
///     int sum = 0;
///     MPI_Allreduce(&x, &sum, 1, MPI_INT, MPI_SUM, comm);
///     return sum;
///   }, {.ranks = 4});
///   total(3).get();  // 12
/// @endcode
template <class F>
class MpiApp {
  using Sig = detail::app_signature<F>;
  using Body = detail::MpiBody<F, typename Sig::params>;

 public:
  using future_type = typename App<Body>::future_type;

  MpiApp(std::string name, F fn, AppOptions options) : app_(std::move(name), Body{std::move(fn)}, std::move(options)) {}

  const std::string& name() const noexcept { return app_.name(); }

  template <class... A>
  future_type operator()(A&&... args) const {
    return app_(std::forward<A>(args)...);
  }
  /// A call with per-call options, such as `.ranks` or `.cores` (per rank).
  typename App<Body>::Bound with(CallOptions options) const { return app_.with(std::move(options)); }

 private:
  App<Body> app_;
};

/// Declares an MPI app; see MpiApp. `fn(MPI_Comm comm, args...)` has one fixed signature.
template <class F>
MpiApp<std::decay_t<F>> mpi_app(std::string name, F&& fn, AppOptions options = {}) {
  static_assert(detail::FixedSignature<F>, "parsl::mpi_app needs a callable with one fixed signature");
  static_assert(detail::app_signature<std::decay_t<F>>::arity >= 1,
                "parsl::mpi_app: the body takes the task's communicator (MPI_Comm) first");
  return MpiApp<std::decay_t<F>>(std::move(name), std::forward<F>(fn), std::move(options));
}

}  // namespace parsl
