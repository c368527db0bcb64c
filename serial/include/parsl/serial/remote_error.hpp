#pragma once
/// @file
/// A serializable description of an exception raised where a task ran.

#include <cstdint>
#include <exception>
#include <string>

namespace parsl::serial {

/// What is known of an exception after it crossed a process boundary: its type name as
/// the compiler spells it, its `what()` message, and where it happened.
struct RemoteError {
  std::string type_name;  ///< demangled, e.g. "std::invalid_argument"
  std::string message;    ///< the exception's what()
  std::int32_t rank = -1; ///< MPI rank (or -1 when the task ran in the kernel's process)
  std::string host;       ///< host name of the process that ran the task

  template <class Archive>
  void serialize(Archive& ar) {
    ar(type_name, message, rank, host);
  }

  /// Describes `error` (type name and message). Non-std exceptions get type "unknown".
  static RemoteError from_exception(const std::exception_ptr& error, std::int32_t rank = -1);
};

/// Host name of this process, cached after the first call. Thread-safe.
const std::string& this_host();

}  // namespace parsl::serial
