#pragma once
/// @file
/// The process-wide registry of apps by name.

#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "parsl/runtime/app_def.hpp"

namespace parsl {

/// Every app declared in this process, by name. Apps register when declared and leave when
/// their `App` object is destroyed. Because apps are declared at namespace scope, every
/// process of the same binary holds the same names, which is how a worker rank finds the
/// code for a task it receives. Thread-safe.
class AppRegistry {
 public:
  /// The one registry of this process.
  static AppRegistry& instance();

  /// Adds `def`. A bad declaration (a name already taken, an empty name, caching for an app
  /// that cannot be memoized) is not added: the problem is recorded and reported by
  /// `check()`, which the kernel calls at start-up (throwing during static initialization
  /// would abort before main with no useful message). Returns false then.
  /// Also resolves `options.ignore_for_cache` into `ignored_positions` (an unknown name or
  /// position is such a problem).
  bool add(const std::shared_ptr<AppDef>& def);
  /// Removes `def` if it is the registered one for its name.
  void remove(const AppDef* def) noexcept;
  /// The app named `name`, or nullptr.
  std::shared_ptr<const AppDef> find(const std::string& name) const;
  /// Throws ConfigError naming every bad declaration seen: a name declared more than once,
  /// an empty name, caching asked for an app that cannot be memoized, a bad ignore_for_cache
  /// or arg_names.
  void check() const;
  /// Forgets the recorded problems (tests that declare bad apps on purpose).
  void clear_problems();
  /// Names of all registered apps, sorted.
  std::vector<std::string> names() const;

 private:
  mutable std::mutex mutex_;
  std::unordered_map<std::string, std::shared_ptr<const AppDef>> apps_;
  std::vector<std::string> problems_;
};

}  // namespace parsl
