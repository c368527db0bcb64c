#include "parsl/runtime/errors.hpp"

#include <typeinfo>

namespace parsl {

namespace {
std::string task_error_message(const serial::RemoteError& info) {
  std::string m = info.type_name + ": " + info.message;
  if (info.rank >= 0) m += " (on rank " + std::to_string(info.rank) + ", host " + info.host + ")";
  return m;
}

std::string dependency_message(std::uint64_t task_id, const std::vector<std::uint64_t>& failed,
                               const std::vector<std::uint64_t>& chain, std::uint64_t root,
                               std::uint64_t chain_length, const std::exception_ptr& cause) {
  std::string m = "Dependency failure for task " + std::to_string(task_id) + ": caused by ";
  for (std::size_t i = 0; i < chain.size(); ++i) {
    if (i > 0) m += " <- ";
    m += "task " + std::to_string(chain[i]);
  }
  if (chain_length > chain.size()) {
    m += " <- ... (" + std::to_string(chain_length - chain.size() - 1) + " more) <- task " +
         std::to_string(root);
  }
  if (cause) m += " (root cause: " + describe(cause) + ")";
  if (failed.size() > 1) {
    m += "; failed inputs: ";
    for (std::size_t i = 0; i < failed.size() && i < 16; ++i) {
      if (i > 0) m += ", ";
      m += "task " + std::to_string(failed[i]);
    }
    if (failed.size() > 16) m += ", ... (" + std::to_string(failed.size()) + " in all)";
  }
  return m;
}

std::string join_message(std::uint64_t task_id, const std::vector<JoinError::Failure>& failures) {
  std::string m = "Join failure for task " + std::to_string(task_id) + ": " +
                  std::to_string(failures.size()) + " inner task(s) failed: ";
  for (std::size_t i = 0; i < failures.size(); ++i) {
    if (i > 0) m += "; ";
    m += "task " + std::to_string(failures[i].task_id) + " (" + describe(failures[i].error) + ")";
  }
  return m;
}
}  // namespace

TaskError::TaskError(serial::RemoteError info) : Error(task_error_message(info)), info_(std::move(info)) {}

DependencyError::DependencyError(std::uint64_t task_id, std::vector<std::uint64_t> failed_dependencies,
                                 std::vector<std::uint64_t> chain, std::uint64_t root_task_id,
                                 std::uint64_t chain_length, std::exception_ptr root_cause)
    : Error(dependency_message(task_id, failed_dependencies, chain, root_task_id, chain_length,
                               root_cause)),
      task_id_(task_id),
      failed_(std::move(failed_dependencies)),
      chain_(std::move(chain)),
      root_task_id_(root_task_id),
      chain_length_(chain_length),
      root_cause_(std::move(root_cause)) {}

JoinError::JoinError(std::uint64_t task_id, std::vector<Failure> failures)
    : Error(join_message(task_id, failures)), task_id_(task_id), failures_(std::move(failures)) {}

JoinError::JoinError(std::uint64_t task_id, const std::string& reason)
    : Error("Join failure for task " + std::to_string(task_id) + ": " + reason), task_id_(task_id) {}

std::string describe(const std::exception_ptr& error) {
  if (!error) return "no error";
  const serial::RemoteError r = serial::RemoteError::from_exception(error);
  return r.type_name + ": " + r.message;
}

}  // namespace parsl
