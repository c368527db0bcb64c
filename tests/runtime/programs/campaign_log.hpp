#pragma once
// The side-effect log the kill -9 test campaigns share: one line per event, appended with
// O_APPEND, so lines written by several processes never interleave.
#include <fcntl.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

#include "parsl/serial/checkpoint_file.hpp"
#include "parsl/serial/codec.hpp"

namespace campaign_log {

inline int g_fd = -1;
inline std::string g_run;  // this run's name, the second word of every line

inline bool open(const char* path, const char* run) {
  g_fd = ::open(path, O_WRONLY | O_CREAT | O_APPEND, 0644);
  g_run = run;
  return g_fd >= 0;
}

// "WHAT RUN [I]"; aborts if the line cannot be written whole (the test would lie otherwise).
inline void line(const std::string& what, long i = -1) {
  const std::string l = what + " " + g_run + (i >= 0 ? " " + std::to_string(i) : "") + "\n";
  if (::write(g_fd, l.data(), l.size()) != static_cast<ssize_t>(l.size())) std::abort();
}

// "loaded RUN I" for each result in the segments under `dirs`: what this run will skip. The
// campaigns' results are the squares of their task numbers.
inline void loaded(const std::vector<std::filesystem::path>& dirs) {
  for (const auto& dir : dirs)
    for (const auto& e : std::filesystem::directory_iterator(dir))
      if (e.path().extension() == ".h5")
        for (const auto& entry : parsl::serial::read_checkpoint_segment(e.path())) {
          const long sq = parsl::serial::decode<long>(entry.value);
          long i = 0;
          while (i * i < sq) ++i;
          line("loaded", i);
        }
}

}  // namespace campaign_log
