#include "parsl/runtime/try_runner.hpp"

#include "job_deadline.hpp"

#include "parsl/runtime/errors.hpp"
#include "parsl/runtime/exception_registry.hpp"
#include "parsl/runtime/isolation.hpp"
#include "parsl/runtime/staging.hpp"
#include "parsl/serial/codec.hpp"
#include "parsl/serial/remote_error.hpp"

namespace parsl {

EncodedOutcome EncodedOutcome::failure(const std::exception_ptr& error, std::int32_t rank) {
  return encoded_failure(serial::encode(serial::RemoteError::from_exception(error, rank)));
}

EncodedOutcome EncodedOutcome::encoded_failure(std::string remote_error) {
  EncodedOutcome o;
  o.bytes_ = std::move(remote_error);
  return o;
}

std::exception_ptr EncodedOutcome::error(std::string_view who) const {
  if (ok_) return nullptr;
  try {
    return rethrow_remote(serial::decode<serial::RemoteError>(bytes_));
  } catch (const std::exception& bad) {
    return std::make_exception_ptr(
        Error(std::string(who) + " failed, but its error report of " + std::to_string(bytes_.size()) + " bytes is unreadable: " +
              bad.what()));
  }
}

EncodedOutcome invoke_encoded_try(const AppDef& app, std::string_view args, std::int32_t rank) {
  try {
    if (!app.invoke_encoded)
      throw ConfigError("app '" + app.name + "' cannot run from encoded arguments: its types are not serializable");
    return EncodedOutcome(app.invoke_encoded(args));
  } catch (...) {
    return EncodedOutcome::failure(std::current_exception(), rank);
  }
}

EncodedOutcome run_encoded_try(const AppDef& app, std::string_view args, const TaskContext& context,
                               const std::vector<File>& inputs, const std::vector<File>& outputs, bool isolate,
                               std::int32_t rank) {
  detail::ScopedTaskContext scope(context);
  if (auto ending = detail::job_ending(context)) return EncodedOutcome::failure(ending, rank);
  try {
    for (const auto& f : inputs) stage_in(f);
  } catch (...) {
    return EncodedOutcome::failure(std::current_exception(), rank);
  }
  EncodedOutcome out = isolate ? run_isolated(app, args) : invoke_encoded_try(app, args, rank);
  if (!out.ok()) return out;
  try {
    for (const auto& f : outputs) stage_out(f);
  } catch (...) {
    return EncodedOutcome::failure(std::current_exception(), rank);
  }
  return out;
}

}  // namespace parsl
