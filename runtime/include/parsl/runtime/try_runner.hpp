#pragma once
/// @file
/// One try of a serializable app, run from its encoded arguments, and its outcome in the form
/// that travels between processes.

#include <cstdint>
#include <exception>
#include <string>
#include <string_view>
#include <vector>

#include "parsl/runtime/app_def.hpp"
#include "parsl/runtime/file.hpp"
#include "parsl/runtime/task_context.hpp"

namespace parsl {

/// What one try came to, as bytes: the encoded value, or an encoded serial::RemoteError (in
/// the spirit of Thallium's `Result<T>`). The one form of an outcome that crosses a process
/// boundary: an MPI worker's report to rank 0 (`Event::payload`) and an isolated child's
/// report to its parent carry exactly these bytes, and a value's bytes go to the memo table
/// as they are.
class EncodedOutcome {
 public:
  EncodedOutcome() = default;
  /// A value's bytes. Implicit, so a runner may return the bytes it made.
  EncodedOutcome(std::string value) : ok_(true), bytes_(std::move(value)) {}  // NOLINT
  /// A failure: the exception as a RemoteError (type, message, `rank`, host), encoded.
  static EncodedOutcome failure(const std::exception_ptr& error, std::int32_t rank = -1);
  /// A failure already encoded as a RemoteError.
  static EncodedOutcome encoded_failure(std::string remote_error);

  bool ok() const noexcept { return ok_; }
  /// The value's bytes, or the encoded RemoteError.
  const std::string& bytes() const& noexcept { return bytes_; }
  std::string&& bytes() && noexcept { return std::move(bytes_); }
  /// The failure as an exception: its own type when registered, else TaskError; a report
  /// that cannot be decoded becomes an Error that says so, naming `who` ("task 5 on rank
  /// 3"). Null for a value.
  std::exception_ptr error(std::string_view who = "a task") const;

 private:
  bool ok_ = false;
  std::string bytes_;
};

/// Runs the app once on this thread: decodes `args`, calls it, encodes the value. Never
/// throws; an exception of the app (or a decoding error) is the failure.
EncodedOutcome invoke_encoded_try(const AppDef& app, std::string_view args, std::int32_t rank = -1);

/// The one try runner for encoded arguments, wherever the try runs: on an MPI worker, and for
/// isolated tries on any executor. Sets `context` for the calling thread, stages `inputs` in,
/// runs the app (in a forked child when `isolate`, see run_isolated), stages `outputs` out.
/// Never throws: every failure is in the outcome, with `rank`. (A try of an app that is
/// not serializable runs only in process, typed: TaskHandle::run.)
EncodedOutcome run_encoded_try(const AppDef& app, std::string_view args, const TaskContext& context,
                               const std::vector<File>& inputs, const std::vector<File>& outputs, bool isolate,
                               std::int32_t rank = -1);

}  // namespace parsl
