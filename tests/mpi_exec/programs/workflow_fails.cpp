// The workflow throws after some tasks ran: every rank exits non-zero, rank 0 prints the
// error once.
#include <stdexcept>

#include <parsl/parsl.hpp>

inline const auto one = parsl::app("workflow_fails.one", [](int x) { return x; });

int main(int argc, char** argv) {
  return parsl::run(argc, argv, [] {
    one(1).get();
    throw std::runtime_error("the campaign hit a wall");
  });
}
