#pragma once
/// @file
/// Rethrowing exceptions that crossed a process boundary as their own type.

#include <exception>
#include <functional>
#include <string>
#include <typeinfo>

#include "parsl/serial/error.hpp"
#include "parsl/serial/remote_error.hpp"

namespace parsl {

namespace detail {
using ExceptionFactory = std::function<std::exception_ptr(const std::string& message)>;
void register_exception_factory(const std::string& type_name, ExceptionFactory factory);
}  // namespace detail

/// Lets an exception of type `T`, raised by a task on another rank, reach `get()` as a `T`
/// (constructed from its `what()` message). `T` must be constructible from a
/// `std::string`. Unregistered types arrive as `TaskError`, which keeps the type name,
/// message, rank and host. The standard exceptions of <stdexcept> are registered already.
/// Register on the rank that hosts the kernel (every rank, if unsure). Thread-safe.
///
/// @code
///   struct DivergedError : std::runtime_error { using std::runtime_error::runtime_error; };
///   parsl::register_exception<DivergedError>();
/// @endcode
template <class T>
void register_exception() {
  static_assert(std::is_constructible_v<T, std::string>,
                "parsl::register_exception<T>: T must be constructible from a std::string message");
  detail::register_exception_factory(demangle(typeid(T).name()), [](const std::string& m) {
    return std::make_exception_ptr(T(m));
  });
}

/// The exception to rethrow for `error`: its registered type, or a TaskError.
std::exception_ptr rethrow_remote(const serial::RemoteError& error);

}  // namespace parsl
