#pragma once
/// @file
/// The messages that travel the dispatch tree. Two kinds only: `DownMsg` (tasks and
/// control, parent to child) and `UpMsg` (credit and task events, child to parent), each a
/// batch, so a rank sees few large messages rather than one per task.

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "parsl/runtime/app_def.hpp"
#include "parsl/runtime/file.hpp"
#include "parsl/runtime/resource_sample.hpp"
#include "parsl/serial/error.hpp"

namespace parsl::mpi {

/// A message that is not a valid encoding of what its tag says, or that breaks the protocol
/// (an event for an unknown task, credit from a stranger). Names the sending rank.
class ProtocolError : public Error {
 public:
  using Error::Error;
};

inline constexpr int kTagDown = 7101;
inline constexpr int kTagUp = 7102;
/// Rank 0 to a worker directly, past the tree: placements of tasks with resources or MPI
/// ranks, and their go, release and cancel.
inline constexpr int kTagDirect = 7103;
/// parsl::share's values, from rank 0 to every worker (ShareMsg): down the tree (sub-masters
/// pass them on at once), so each arrives before the tasks submitted after it.
inline constexpr int kTagShare = 7104;

/// One try of one task, on its way to a worker.
struct TaskMsg {
  std::uint64_t id = 0;
  std::uint32_t attempt = 0;
  std::int32_t priority = 0;  ///< lower first
  std::string app;            ///< registered app name
  std::string args;           ///< encoded resolved arguments
  double walltime = 0;        ///< seconds per try, 0 for none
  std::vector<File> inputs, outputs;  ///< the worker stages remote ones
  bool isolate = false;               ///< run in a forked child on the worker
  Resources res;                      ///< plain ones travel the tree; others are placed
  bool mpi = false;                   ///< an MPI app: runs on the worker's main thread
  template <class Archive>
  void serialize(Archive& ar) {
    // A plain task (nearly all of them) carries one byte for its resources, not 22.
    bool placed = mpi || !res.plain();
    ar(id, attempt, priority, app, args, walltime, inputs, outputs, isolate, placed);
    if (placed) ar(res, mpi);
  }
};

/// A task that rank 0 placed on chosen workers, as one of them receives it (directly from
/// rank 0). A *member* runs a part: the task itself, or for an MPI app one rank of it. A
/// *helper* lends its cores (and its node's share of GPUs and memory) to a member on its
/// node and runs nothing. Both stop taking other work, hand back what they hold, and report
/// `ready` once idle; members start on `go` (at once when `wait_for_go` is false), helpers
/// wait for `release`.
struct Placement {
  TaskMsg task;                       ///< helpers: id and attempt only
  std::vector<std::int32_t> members;  ///< worker ranks, in the task communicator's order
  std::int32_t member = -1;           ///< this worker's index in `members`; -1: a helper
  std::vector<std::int32_t> cores;    ///< hwloc logical indices of the cores to bind to
  std::vector<std::int32_t> gpus;     ///< GPU indices on the node
  bool wait_for_go = true;            ///< false: nothing to gather, start when idle
  /// A bash task's reserved ranks (`.ranks` > 1), one host per rank: the member runs the
  /// command with $PARSL_MPI_PREFIX for them; the other ranks' workers are helpers.
  std::vector<std::string> hosts;
  template <class Archive>
  void serialize(Archive& ar) {
    ar(task, members, member, cores, gpus, wait_for_go, hosts);
  }
};

/// `ready`: a worker holding a Placement is idle and waits for `go` (or `release`).
/// `usage`: a resource sample of a running try (monitoring), its payload an encoded
/// ResourceSample.
enum class EventKind : std::uint8_t { started = 0, succeeded = 1, failed = 2, ready = 3, usage = 4 };

/// What happened to a task try on a worker. `payload`: the encoded value (succeeded), an
/// encoded serial::RemoteError (failed), empty (started). A worker reports `started` only
/// for a task still running when it next writes to its parent, so a short task's outcome
/// travels alone.
struct Event {
  std::uint64_t id = 0;
  std::uint32_t attempt = 0;
  EventKind kind = EventKind::started;
  std::int32_t worker = -1;  ///< rank that ran it
  std::string payload;
  /// started: how long the task had run when reported (rank 0's walltime clock starts that
  /// much earlier); succeeded/failed: the task's run time.
  double seconds = 0;
  /// The worker's wall clock (microseconds since the epoch) when the try started there, for
  /// monitoring's running times; 0 for events about no running try (ready).
  std::int64_t started_us = 0;
  template <class Archive>
  void serialize(Archive& ar) {
    ar(id, attempt, kind, worker, payload, seconds, started_us);
  }
};

enum class Control : std::uint8_t {
  none = 0,
  shutdown = 1,        ///< the workflow finished: stop after answering `bye`
  shutdown_error = 2,  ///< the workflow failed: stop, and exit non-zero
};

struct DownMsg {
  std::vector<TaskMsg> tasks;
  Control control = Control::none;
  /// Tasks cancelled: dropped wherever they wait below; a running bash or isolated task is
  /// killed. Always sent after the task itself, on the same path.
  std::vector<std::uint64_t> cancel;
  /// Direct from rank 0 only, applied in this order after `cancel`: helpers released, new
  /// placements, placed tasks whose workers are all ready.
  std::vector<std::uint64_t> release;
  std::vector<Placement> placed;
  std::vector<std::uint64_t> go;
  template <class Archive>
  void serialize(Archive& ar) {
    ar(tasks, control, cancel, release, placed, go);
  }
};

struct UpMsg {
  std::int64_t credit = 0;  ///< further tasks the sender may be given
  std::vector<Event> events;
  bool bye = false;  ///< last message: the sender has stopped
  std::vector<std::string> notes;  ///< lines for rank 0's log (worker start-up, binding)
  /// Tasks handed back unstarted (their worker is busy with a long task), for the parent
  /// to give to others. Not new credit: the sender's later credit counts them.
  std::vector<TaskMsg> returned;
  /// Start-up lines of the sender's subtree counted instead of sent (kStartupNotes).
  std::int64_t notes_dropped = 0;
  template <class Archive>
  void serialize(Archive& ar) {
    ar(credit, events, bye, notes, returned, notes_dropped);
  }
};

/// Shared values (parsl::share) placed on the workers, and those released.
struct ShareMsg {
  std::vector<std::pair<std::uint64_t, std::string>> values;  ///< id, the value's bytes
  std::vector<std::uint64_t> released;
  template <class Archive>
  void serialize(Archive& ar) {
    ar(values, released);
  }
};

/// Start-up lines at scale: each sub-master passes up at most its share (by workers below
/// it) of kStartupNotes lines for the whole tree and counts the rest in
/// UpMsg::notes_dropped, which parents add up and rank 0 logs as one line. So rank 0's log
/// and memory do not grow with the workers (262,144 lines and 28 MB at 262,144 workers
/// before).
inline constexpr std::int64_t kStartupNotes = 1024;

std::string encode(const DownMsg& m);
std::string encode(const UpMsg& m);
std::string encode(const ShareMsg& m);
/// Decode; throw ProtocolError naming `source` (a value with id 0).
ShareMsg decode_share(std::string_view bytes, int source);
/// Decode and validate; throw ProtocolError naming `source` and what was wrong.
DownMsg decode_down(std::string_view bytes, int source);
/// The ResourceSample of a `usage` event's payload; throws ProtocolError naming `source`.
ResourceSample decode_usage(std::string_view bytes, int source);
UpMsg decode_up(std::string_view bytes, int source);

}  // namespace parsl::mpi
