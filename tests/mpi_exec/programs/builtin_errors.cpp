// Every error type the runtime raises where a task runs reaches get() on rank 0 with its own
// type, also in a program that declares no bash app (their registration once sat in a static
// initializer of bash_app.cpp, which the linker dropped from such programs). Prints one line
// per type and exits 1 if any arrived as another type.
#include <cstdio>
#include <functional>
#include <string>
#include <vector>

#include <parsl/parsl.hpp>

namespace {
template <class E>
void raise(const std::string& m) {
  throw E(m);
}
}  // namespace

inline const auto throws = parsl::app("builtin_errors.throws", [](int which) {
  const std::string m = "raised on a worker";
  switch (which) {
    case 0: raise<parsl::AppTimeout>(m); break;
    case 1: raise<parsl::StagingError>(m); break;
    case 2: raise<parsl::MissingOutputs>(m); break;
    case 3: raise<parsl::BashExitFailure>("bash app x failed with exit code 3"); break;
    case 4: raise<parsl::WorkerLost>(m); break;
    case 5: raise<parsl::SerializationError>(m); break;
    case 6: raise<parsl::CheckpointError>(m); break;
    case 7: raise<parsl::ConfigError>(m); break;
    default: raise<parsl::Error>(m); break;
  }
  return which;
});

// A real StagingError from the worker's stager: nothing listens on port 9 of loopback.
inline const auto reads_remote = parsl::app("builtin_errors.reads_remote", [](int x) { return x; });

int main(int argc, char** argv) {
  int wrong = 0;
  const int status = parsl::run(argc, argv, [&] {
    struct Case {
      const char* type;
      std::function<bool(const std::exception_ptr&)> is;
    };
    auto is = [](auto* tag) {
      using E = std::remove_pointer_t<decltype(tag)>;
      return [](const std::exception_ptr& p) {
        try {
          std::rethrow_exception(p);
        } catch (const E&) {
          return true;
        } catch (...) {
          return false;
        }
      };
    };
    const std::vector<Case> cases = {
        {"parsl::AppTimeout", is(static_cast<parsl::AppTimeout*>(nullptr))},
        {"parsl::StagingError", is(static_cast<parsl::StagingError*>(nullptr))},
        {"parsl::MissingOutputs", is(static_cast<parsl::MissingOutputs*>(nullptr))},
        {"parsl::BashExitFailure", is(static_cast<parsl::BashExitFailure*>(nullptr))},
        {"parsl::WorkerLost", is(static_cast<parsl::WorkerLost*>(nullptr))},
        {"parsl::SerializationError", is(static_cast<parsl::SerializationError*>(nullptr))},
        {"parsl::CheckpointError", is(static_cast<parsl::CheckpointError*>(nullptr))},
        {"parsl::ConfigError", is(static_cast<parsl::ConfigError*>(nullptr))},
        {"parsl::Error", is(static_cast<parsl::Error*>(nullptr))},
    };
    std::vector<parsl::AppFuture<int>> fs;
    for (int i = 0; i < static_cast<int>(cases.size()); ++i) fs.push_back(throws(i));
    auto staged = reads_remote.with({.inputs = {parsl::File("http://127.0.0.1:9/none.csv")}})(1);
    for (std::size_t i = 0; i < cases.size(); ++i) {
      fs[i].wait();
      const bool ok = fs[i].exception() && cases[i].is(fs[i].exception());
      std::printf("%s: %s (%s)\n", cases[i].type, ok ? "kept its type" : "LOST ITS TYPE",
                  parsl::describe(fs[i].exception()).c_str());
      wrong += ok ? 0 : 1;
    }
    staged.wait();
    const bool ok = staged.exception() && cases[1].is(staged.exception());
    std::printf("staging a missing input: %s (%s)\n", ok ? "StagingError" : "NOT A StagingError",
                parsl::describe(staged.exception()).c_str());
    wrong += ok ? 0 : 1;
    if (wrong == 0) std::printf("all built-in errors kept their types\n");
  });
  return status != 0 ? status : wrong != 0 ? 1 : 0;
}
