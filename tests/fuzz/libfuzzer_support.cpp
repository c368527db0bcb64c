// For coverage-guided runs with clang's libFuzzer instead of driver.cpp: libFuzzer brings
// main() and saves failing inputs itself; the targets only need fail(). See docs/fuzzing.md.
#include <cstdio>
#include <cstdlib>

#include "mutate.hpp"

void parsl::fuzz::fail(const char* what) {
  std::fprintf(stderr, "fuzz: %s\n", what);
  std::abort();
}
