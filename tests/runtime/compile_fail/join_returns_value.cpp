#include <parsl/parsl.hpp>
inline const auto bad = parsl::join_app("bad", [](int x) { return x; });
