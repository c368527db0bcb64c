#include <parsl/runtime.hpp>
inline const auto add = parsl::app("add", [](int a, int b) { return a + b; });
void f() { auto g = add(1); }
