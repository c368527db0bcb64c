#pragma once
// A CommandRunner that answers from a handler instead of running anything, and records
// every command it was asked to run.
#include <functional>
#include <string>
#include <vector>

#include "parsl/launch/command_runner.hpp"

namespace parsl::launch::test {

class FakeRunner final : public CommandRunner {
 public:
  using Handler = std::function<CommandResult(const std::vector<std::string>&, const std::string& input)>;
  explicit FakeRunner(Handler h) : handler_(std::move(h)) {}
  CommandResult run(const std::vector<std::string>& argv, std::chrono::seconds, const std::string& input) override {
    calls.push_back(argv);
    inputs.push_back(input);
    return handler_(argv, input);
  }
  std::vector<std::vector<std::string>> calls;
  std::vector<std::string> inputs;

 private:
  Handler handler_;
};

inline CommandResult ok(std::string out) { return {0, std::move(out), {}, false, false}; }
inline CommandResult fail(int code, std::string err, std::string out = {}) {
  return {code, std::move(out), std::move(err), false, false};
}

}  // namespace parsl::launch::test
