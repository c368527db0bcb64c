#pragma once
// Internal: a call's resources, from the app's options and the call's.
#include "parsl/runtime/app_def.hpp"

namespace parsl::detail {

inline constexpr int kMaxCores = 65536;
inline constexpr int kMaxGpus = 1024;
inline constexpr int kMaxRanks = 1 << 24;

/// The call's options over the app's; throws ConfigError naming the app for values out of
/// range, or ranks on an app that is not an MPI app.
Resources resources_of(const AppDef& app, const CallOptions& call);

}  // namespace parsl::detail
