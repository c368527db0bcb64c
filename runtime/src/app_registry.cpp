#include "parsl/runtime/app_registry.hpp"

#include <algorithm>

#include "parsl/runtime/errors.hpp"

namespace parsl {

AppRegistry& AppRegistry::instance() {
  static AppRegistry registry;
  return registry;
}

bool AppRegistry::add(const std::shared_ptr<AppDef>& def) {
  std::lock_guard lock(mutex_);
  if (def->name.empty()) {
    problems_.push_back("an app was declared with an empty name");
    return false;
  }
  if (def->options.cache && !def->serializable) {
    problems_.push_back("app '" + def->name +
                        "' asks for caching, but " +
                        (def->kind == AppDef::Kind::join
                             ? std::string("join apps cannot be memoized")
                             : std::string("its argument or result types cannot be serialized")));
    return false;
  }
  const auto& names = def->options.arg_names;
  if (!names.empty() && names.size() != def->arity) {
    problems_.push_back("app '" + def->name + "' names " + std::to_string(names.size()) +
                        " parameters in arg_names, but it has " + std::to_string(def->arity));
    return false;
  }
  def->ignored_positions.clear();
  for (const ArgRef& ref : def->options.ignore_for_cache) {
    std::size_t pos = 0;
    if (ref.by_name()) {
      const auto it = std::find(names.begin(), names.end(), ref.name());
      if (it == names.end()) {
        problems_.push_back("app '" + def->name + "' leaves argument '" + ref.name() +
                            "' out of its memo key, but " +
                            (names.empty() ? std::string("gives no arg_names to find it in")
                                           : "its arg_names do not hold that name"));
        return false;
      }
      pos = static_cast<std::size_t>(it - names.begin());
    } else {
      pos = ref.position();
      if (pos >= def->arity) {
        problems_.push_back("app '" + def->name + "' leaves argument " + std::to_string(pos) +
                            " out of its memo key, but it has only " + std::to_string(def->arity) +
                            " parameters (positions count from 0)");
        return false;
      }
    }
    def->ignored_positions.push_back(pos);
  }
  std::sort(def->ignored_positions.begin(), def->ignored_positions.end());
  def->ignored_positions.erase(std::unique(def->ignored_positions.begin(), def->ignored_positions.end()),
                               def->ignored_positions.end());
  auto [it, inserted] = apps_.emplace(def->name, def);
  if (!inserted) {
    problems_.push_back("app name '" + def->name +
                        "' is declared more than once (every app needs its own name, the same on "
                        "every process)");
    return false;
  }
  return true;
}

void AppRegistry::remove(const AppDef* def) noexcept {
  std::lock_guard lock(mutex_);
  auto it = apps_.find(def->name);
  if (it != apps_.end() && it->second.get() == def) apps_.erase(it);
}

std::shared_ptr<const AppDef> AppRegistry::find(const std::string& name) const {
  std::lock_guard lock(mutex_);
  auto it = apps_.find(name);
  return it == apps_.end() ? nullptr : it->second;
}

void AppRegistry::check() const {
  std::lock_guard lock(mutex_);
  if (problems_.empty()) return;
  std::string m = "bad app declarations: ";
  for (std::size_t i = 0; i < problems_.size(); ++i) {
    if (i > 0) m += "; ";
    m += problems_[i];
  }
  throw ConfigError(m);
}

void AppRegistry::clear_problems() {
  std::lock_guard lock(mutex_);
  problems_.clear();
}

std::vector<std::string> AppRegistry::names() const {
  std::lock_guard lock(mutex_);
  std::vector<std::string> out;
  out.reserve(apps_.size());
  for (const auto& kv : apps_) out.push_back(kv.first);
  std::sort(out.begin(), out.end());
  return out;
}

}  // namespace parsl
