#include <parsl/runtime.hpp>
inline const auto bad = parsl::app("bad", [](auto x) { return x; });
