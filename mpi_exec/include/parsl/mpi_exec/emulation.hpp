#pragma once
/// @file
/// Emulated scale (`--parsl-mpi-emulate=NODESxWORKERS`): the job's ranks stand in for a tree
/// of NODES nodes with WORKERS workers each. Rank 0 and one complete path of sub-masters,
/// top to bottom, are real ranks running the real loops; the other ranks each host whole
/// subtrees of virtual sub-masters (the same protocol code, fed in-process) and emulated
/// workers (the real WorkerCore, whose tasks are held for a declared time instead of run).
/// Every message between virtual ranks is encoded and decoded as it would be between real
/// ones. See docs/scaling.md.
///
/// Emulated workers run no task code: an app runs under emulation only when the program
/// said how long its tasks take, with emulate_app on every rank before parsl::run.
///
/// @code
///   inline const auto work = parsl::app("work", [](double seconds) { sleep(seconds); return 0; });
///   parsl::mpi::emulate_app<int, double>("work", [](double seconds) { return seconds; });
/// @endcode

#include <array>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <tuple>
#include <type_traits>
#include <vector>

#include "parsl/serial/codec.hpp"

namespace parsl::mpi {

/// What an emulated worker does with one task: holds it `seconds`, then reports success with
/// `result` (the encoded value the app would return), or, when `error` is not empty, a
/// failure with that message.
struct EmulatedTask {
  double seconds = 0;
  std::string result;
  std::string error;
};
using EmulatedRun = std::function<EmulatedTask(std::string_view encoded_args)>;

/// How emulated workers treat tasks of app `name` (replaces an earlier declaration).
void emulate_app(const std::string& name, EmulatedRun run);

/// Typed form: `seconds_of` takes the app's arguments (types P...) and returns how long the
/// task takes; the task then returns R{} (nothing for void).
template <class R, class... P, class F>
void emulate_app(const std::string& name, F seconds_of) {
  emulate_app(name, [seconds_of](std::string_view args) {
    auto params = serial::decode<std::tuple<std::decay_t<P>...>>(args);
    EmulatedTask t;
    t.seconds = static_cast<double>(std::apply(seconds_of, params));
    if constexpr (!std::is_void_v<R>) t.result = serial::encode(R{});
    return t;
  });
}

/// What an emulated run did, summed over the job (rank 0, after parsl::run returns).
struct EmulationSummary {
  static constexpr int kLevels = 16;  ///< depths 0..15
  std::int64_t nodes = 0, workers_per_node = 0, virtual_ranks = 0, workers = 0, depth = 0, real_ranks = 0;
  /// Per depth of the virtual tree: its ranks, those that said bye (every one, after a
  /// clean stop), messages and bytes each level sent (up and down), and messages that
  /// crossed between real ranks (the rest were delivered in-process, encoded all the same).
  std::array<std::int64_t, kLevels> ranks{}, byes{}, sent{}, bytes{}, over_mpi{};
  /// Tasks the emulated workers finished (each try once), started, handed back.
  std::int64_t tasks_done = 0, tasks_failed = 0, handed_back = 0;
  /// Rank 0's messages received and sent.
  std::int64_t root_in = 0, root_out = 0;
  /// CPU seconds (user + system, all threads) of each real rank over the whole run, and
  /// what each is: "root", "sub-master D" (of the path, at depth D) or "host".
  std::vector<double> cpu;
  std::vector<std::string> role;
};

/// The summary of the last emulated run in this process (rank 0), if any.
std::optional<EmulationSummary> last_emulation();

namespace detail {
/// Internal: the declaration for `app`, or null.
const EmulatedRun* emulated_run(const std::string& app);
void set_last_emulation(const EmulationSummary& s);
}  // namespace detail

}  // namespace parsl::mpi
