#include <parsl/runtime.hpp>
#include <string>
inline const auto name = parsl::app("name", [](int x) { return std::to_string(x); });
inline const auto twice = parsl::app("twice", [](int x) { return 2 * x; });
void f() { auto g = twice(name(1)); }  // AppFuture<std::string> where an int is expected
