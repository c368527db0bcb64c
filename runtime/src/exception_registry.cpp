#include "parsl/runtime/exception_registry.hpp"

#include <mutex>
#include <stdexcept>
#include <unordered_map>

#include "parsl/runtime/bash_app.hpp"
#include "parsl/runtime/errors.hpp"
#include "parsl/runtime/file.hpp"
#include "parsl/runtime/isolation.hpp"
#include "parsl/serial/checkpoint_file.hpp"

namespace parsl {

namespace {
struct Registry {
  std::mutex mutex;
  std::unordered_map<std::string, detail::ExceptionFactory> factories;
  Registry() {
    auto add = [this](auto* tag) {
      using T = std::remove_pointer_t<decltype(tag)>;
      factories[demangle(typeid(T).name())] = [](const std::string& m) { return std::make_exception_ptr(T(m)); };
    };
    add(static_cast<std::runtime_error*>(nullptr));
    add(static_cast<std::logic_error*>(nullptr));
    add(static_cast<std::invalid_argument*>(nullptr));
    add(static_cast<std::out_of_range*>(nullptr));
    add(static_cast<std::domain_error*>(nullptr));
    add(static_cast<std::length_error*>(nullptr));
    add(static_cast<std::range_error*>(nullptr));
    add(static_cast<std::overflow_error*>(nullptr));
    add(static_cast<std::underflow_error*>(nullptr));
    // The runtime's own errors that a worker can raise. Registered here, not by static
    // initializers next to each class: the linker drops those from programs that use no
    // symbol of their object file (a program without bash apps lost StagingError).
    add(static_cast<Error*>(nullptr));
    add(static_cast<SerializationError*>(nullptr));
    add(static_cast<ConfigError*>(nullptr));
    add(static_cast<AppTimeout*>(nullptr));
    add(static_cast<TaskCancelled*>(nullptr));
    add(static_cast<JobEnding*>(nullptr));
    add(static_cast<BashExitFailure*>(nullptr));
    add(static_cast<MissingOutputs*>(nullptr));
    add(static_cast<StagingError*>(nullptr));
    add(static_cast<WorkerLost*>(nullptr));
    add(static_cast<CheckpointError*>(nullptr));
  }
};
Registry& registry() {
  static Registry r;
  return r;
}
}  // namespace

void detail::register_exception_factory(const std::string& type_name, ExceptionFactory factory) {
  Registry& r = registry();
  std::lock_guard lock(r.mutex);
  r.factories[type_name] = std::move(factory);
}

std::exception_ptr rethrow_remote(const serial::RemoteError& error) {
  Registry& r = registry();
  {
    std::lock_guard lock(r.mutex);
    auto it = r.factories.find(error.type_name);
    if (it != r.factories.end()) return it->second(error.message);
  }
  return std::make_exception_ptr(TaskError(error));
}

}  // namespace parsl
