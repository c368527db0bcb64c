#pragma once
/// @file
/// `ResourceSample`: what a running try uses, read from /proc, as a row of Parsl's monitoring
/// `resource` table holds it (its psutil_process_* columns).
#include <sys/types.h>

#include <cstdint>
#include <string>

namespace parsl {

struct ResourceSample {
  std::int64_t time_us = 0;  ///< when sampled: the worker's wall clock, microseconds since the epoch
  double interval = 0;       ///< seconds since the previous sample of this try (or its start)
  std::int32_t pid = 0;      ///< the process sampled (a bash task's group leader, an isolated child, the worker)
  double cpu_percent = 0;    ///< CPU time over `interval`, percent of one core
  double memory_percent = 0;  ///< resident memory, percent of the node's
  std::int32_t children = 0;  ///< processes besides `pid` (the rest of a bash task's process group)
  double time_user = 0, time_system = 0;           ///< CPU seconds so far
  double memory_virtual = 0, memory_resident = 0;  ///< bytes
  double disk_read = 0, disk_write = 0;            ///< bytes read from and written to storage so far
  std::string status;                              ///< /proc state of `pid`: "running", "sleeping", ...

  template <class Archive>
  void serialize(Archive& ar) {
    ar(time_us, interval, pid, cpu_percent, memory_percent, children, time_user, time_system, memory_virtual,
       memory_resident, disk_read, disk_write, status);
  }
};

/// The process (a pid, or minus a process group id) of the bash task or isolated try that
/// this process's tasks run now, or 0 when none: set while one runs.
pid_t running_task_process() noexcept;

/// Samples what a try uses now: `target` is a pid, or minus a process group id (every
/// process of the group is summed; `children` counts all but the leader). `thread`, when
/// not 0, samples only that thread of this process for CPU time and I/O (an in-process
/// task; memory is the process's). CPU percent is left 0 (it needs two samples). Returns a
/// sample with pid 0 when the target is gone.
ResourceSample sample_resources(pid_t target, pid_t thread = 0);

}  // namespace parsl
