// A task kills its worker rank outright. The job must end with a clear message and a
// non-zero status, not hang.
#include <cstdlib>

#include <parsl/parsl.hpp>

inline const auto die = parsl::app("rank_dies.die", [](int code) -> int { std::_Exit(code); });

int main(int argc, char** argv) {
  return parsl::run(argc, argv, [] { die(7).get(); });
}
