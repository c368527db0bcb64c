#pragma once
// Helpers for MPI tests: the command line (so ctest can force tree shapes with
// --parsl-mpi-* options) and a config with a scratch run directory.
#include <mpi.h>

#include <string>
#include <vector>

#include <parsl/parsl.hpp>

#include "../runtime/test_support.hpp"

namespace parsl::test {

inline std::vector<std::string>& saved_args() {
  static std::vector<std::string> args;
  return args;
}
inline void set_args(int argc, char** argv) {
  for (int i = 0; i < argc; ++i) saved_args().emplace_back(argv[i]);
}
inline Config mpi_config() {
  std::vector<const char*> argv;
  for (auto& a : saved_args()) argv.push_back(a.c_str());
  Config c = Config::from_args(static_cast<int>(argv.size()), argv.data());
  c.run_dir = scratch_dir() / "runinfo";
  return c;
}
inline int world_rank() {
  int r = 0;
  MPI_Comm_rank(MPI_COMM_WORLD, &r);
  return r;
}
inline int world_size() {
  int s = 0;
  MPI_Comm_size(MPI_COMM_WORLD, &s);
  return s;
}

}  // namespace parsl::test
