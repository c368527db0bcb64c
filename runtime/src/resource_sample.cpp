// Resource samples from /proc (Linux): what psutil reads for Parsl's monitoring, without it.
#include <dirent.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

#include "parsl/runtime/resource_sample.hpp"

namespace parsl {

namespace {

struct ProcStat {
  bool ok = false;
  char state = '?';
  long pgrp = 0;
  unsigned long long utime = 0, stime = 0, vsize = 0;
  long long rss_pages = 0;
};

// /proc/PATH/stat: "pid (comm) state ppid pgrp ... utime(14) stime(15) ... vsize(23) rss(24)".
// comm may hold spaces and parentheses: the fields start after the last ')'.
ProcStat read_stat(const std::string& path) {
  ProcStat s;
  FILE* f = std::fopen(path.c_str(), "re");
  if (!f) return s;
  char buf[1024];
  const std::size_t n = std::fread(buf, 1, sizeof buf - 1, f);
  std::fclose(f);
  buf[n] = '\0';
  const char* p = std::strrchr(buf, ')');
  if (!p) return s;
  long ppid = 0;
  unsigned long long skip = 0;
  // state ppid pgrp session tty tpgid flags minflt cminflt majflt cmajflt utime stime cutime
  // cstime priority nice threads itrealvalue starttime vsize rss
  long long cutime = 0, cstime = 0, prio = 0, nice = 0, threads = 0, itreal = 0;
  const int got = std::sscanf(p + 1, " %c %ld %ld %llu %llu %llu %llu %llu %llu %llu %llu %llu %llu %lld %lld %lld %lld %lld %lld "
                              "%llu %llu %lld",
                              &s.state, &ppid, &s.pgrp, &skip, &skip, &skip, &skip, &skip, &skip, &skip, &skip, &s.utime,
                              &s.stime, &cutime, &cstime, &prio, &nice, &threads, &itreal, &skip, &s.vsize, &s.rss_pages);
  s.ok = got == 22;
  return s;
}

// read_bytes and write_bytes of /proc/PATH/io (0 when it cannot be read).
void read_io(const std::string& path, double& read, double& write) {
  FILE* f = std::fopen(path.c_str(), "re");
  if (!f) return;
  char line[128];
  while (std::fgets(line, sizeof line, f)) {
    unsigned long long v = 0;
    if (std::sscanf(line, "read_bytes: %llu", &v) == 1) read += static_cast<double>(v);
    else if (std::sscanf(line, "write_bytes: %llu", &v) == 1) write += static_cast<double>(v);
  }
  std::fclose(f);
}

const char* state_name(char c) {
  switch (c) {
    case 'R': return "running";
    case 'S': return "sleeping";
    case 'D': return "disk-sleep";
    case 'T': return "stopped";
    case 't': return "tracing-stop";
    case 'Z': return "zombie";
    case 'X': return "dead";
    case 'I': return "idle";
    default: return "unknown";
  }
}

void add(ResourceSample& r, const ProcStat& s, const std::string& proc) {
  static const double ticks = static_cast<double>(::sysconf(_SC_CLK_TCK));
  static const double page = static_cast<double>(::sysconf(_SC_PAGESIZE));
  r.time_user += static_cast<double>(s.utime) / ticks;
  r.time_system += static_cast<double>(s.stime) / ticks;
  r.memory_virtual += static_cast<double>(s.vsize);
  r.memory_resident += static_cast<double>(s.rss_pages) * page;
  read_io(proc + "/io", r.disk_read, r.disk_write);
}

}  // namespace

ResourceSample sample_resources(pid_t target, pid_t thread) {
  ResourceSample r;
  r.time_us = std::chrono::duration_cast<std::chrono::microseconds>(
                  std::chrono::system_clock::now().time_since_epoch())
                  .count();
  static const double memory = static_cast<double>(::sysconf(_SC_PHYS_PAGES)) * static_cast<double>(::sysconf(_SC_PAGESIZE));
  if (thread != 0) {
    // An in-process task: its thread's CPU time and I/O, the process's memory.
    const std::string task = "/proc/self/task/" + std::to_string(thread);
    const ProcStat t = read_stat(task + "/stat"), self = read_stat("/proc/self/stat");
    if (!t.ok || !self.ok) return r;
    add(r, t, task);
    static const double page = static_cast<double>(::sysconf(_SC_PAGESIZE));
    r.memory_virtual = static_cast<double>(self.vsize);
    r.memory_resident = static_cast<double>(self.rss_pages) * page;
    r.pid = static_cast<std::int32_t>(::getpid());
    r.status = state_name(t.state);
  } else if (target > 0) {
    const std::string proc = "/proc/" + std::to_string(target);
    const ProcStat s = read_stat(proc + "/stat");
    if (!s.ok) return r;
    add(r, s, proc);
    r.pid = target;
    r.status = state_name(s.state);
  } else if (target < 0) {
    // Every process of the group: a bash task's command and what it started.
    const long group = -static_cast<long>(target);
    DIR* dir = ::opendir("/proc");
    if (!dir) return r;
    while (const dirent* e = ::readdir(dir)) {
      if (e->d_name[0] < '0' || e->d_name[0] > '9') continue;
      const std::string proc = std::string("/proc/") + e->d_name;
      const ProcStat s = read_stat(proc + "/stat");
      if (!s.ok || s.pgrp != group) continue;
      add(r, s, proc);
      if (std::atol(e->d_name) == group) {
        r.pid = static_cast<std::int32_t>(group);
        r.status = state_name(s.state);
      } else {
        ++r.children;
      }
    }
    ::closedir(dir);
    if (r.pid == 0 && r.children > 0) {  // the leader is gone, its children are not
      r.pid = static_cast<std::int32_t>(group);
      r.status = "dead";
    }
  }
  if (memory > 0) r.memory_percent = 100.0 * r.memory_resident / memory;
  return r;
}

}  // namespace parsl
