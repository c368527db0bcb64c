#include <parsl/runtime.hpp>
inline const auto bad = parsl::join_app("bad", [](int x) { return x; });
