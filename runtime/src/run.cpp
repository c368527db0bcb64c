#include "parsl/runtime/run.hpp"

#include <cstdio>
#include <string_view>

#include "parsl/runtime/data_flow_kernel.hpp"
#include "parsl/runtime/errors.hpp"

namespace parsl {

int run_local(int argc, char** argv, Config config, const std::function<void()>& workflow) {
  if (Config::help_requested(argc, argv)) {
    std::fputs(Config::options_help().c_str(), stdout);
    return 0;
  }
  std::unique_ptr<DataFlowKernel> dfk;
  try {
    dfk = std::make_unique<DataFlowKernel>(std::move(config));
  } catch (const std::exception& e) {
    std::fprintf(stderr, "parsl: cannot start the DataFlowKernel: %s\n", describe(std::current_exception()).c_str());
    return 1;
  }
  const bool ok = detail::call_workflow(*dfk, workflow);
  return detail::shutdown_kernel(*dfk) && ok ? 0 : 1;
}

bool detail::call_workflow(DataFlowKernel& dfk, const std::function<void()>& workflow, std::string* error) {
  try {
    workflow();
    return true;
  } catch (...) {
    const std::string what = describe(std::current_exception());
    std::fprintf(stderr, "parsl: the workflow failed: %s\n", what.c_str());
    dfk.logger().error("the workflow failed: " + what);
    if (error) *error = "the workflow failed: " + what;
    return false;
  }
}

bool detail::shutdown_kernel(DataFlowKernel& dfk, std::string* error) {
  try {
    dfk.cleanup();
    return true;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "parsl: shutdown failed: %s\n", e.what());
    if (error && error->empty()) *error = std::string("shutdown failed: ") + e.what();
    return false;
  }
}

int run_local(int argc, char** argv, const std::function<void()>& workflow) {
  Config config;
  try {
    config = Config::from_args(argc, argv);
  } catch (const std::exception& e) {
    if (!Config::help_requested(argc, argv)) {
      std::fprintf(stderr, "parsl: %s\n", e.what());
      return 2;
    }
  }
  return run_local(argc, argv, std::move(config), workflow);
}

}  // namespace parsl
