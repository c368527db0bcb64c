// The damaged-segment sweep: real checkpoint segments, damaged in many ways (bit flips,
// overwritten bytes and length fields, insertions, deletions, truncations), each written to
// a file and read with read_checkpoint_segment as a run would. Every mutant must be refused
// with CheckpointError or read back to exactly the original entries (a mutation that changed
// nothing); an altered value accepted, any other exception or a sanitizer report fails.
//   checkpoint_sweep [--mutants=N] [--seed=S] CORPUS_DIR...
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

#include "mutate.hpp"
#include "parsl/serial/checkpoint_file.hpp"

int main(int argc, char** argv) {
  long long mutants = 2000;
  std::uint64_t seed = static_cast<std::uint64_t>(std::chrono::steady_clock::now().time_since_epoch().count());
  std::vector<std::string> dirs;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a.rfind("--mutants=", 0) == 0) mutants = std::atoll(a.c_str() + 10);
    else if (a.rfind("--seed=", 0) == 0) seed = std::strtoull(a.c_str() + 7, nullptr, 10);
    else dirs.push_back(a);
  }
  const auto segments = parsl::fuzz::load_corpus(dirs);
  if (segments.empty()) {
    std::fprintf(stderr, "checkpoint_sweep: no segments in the folders given\n");
    return 2;
  }
  const auto dir = std::filesystem::temp_directory_path() / ("parsl-sweep-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  const auto file = dir / "mutant.h5";
  auto write = [&](const std::string& bytes) { std::ofstream(file, std::ios::binary | std::ios::trunc) << bytes; };
  // The originals must read, or the sweep would prove nothing.
  std::vector<std::vector<parsl::serial::CheckpointEntry>> originals;
  for (const auto& s : segments) {
    write(s);
    originals.push_back(parsl::serial::read_checkpoint_segment(file));
  }
  std::printf("checkpoint_sweep: %zu real segments, %lld mutants, seed=%llu\n", segments.size(), mutants,
              static_cast<unsigned long long>(seed));
  parsl::fuzz::Mutator m(seed);
  long long refused = 0, unchanged = 0, altered = 0;
  for (long long i = 0; i < mutants; ++i) {
    const std::size_t which = m.below(segments.size());
    const std::string mutant = m.mutate(segments[which], segments[m.below(segments.size())], 3);
    write(mutant);
    try {
      const auto got = parsl::serial::read_checkpoint_segment(file);
      const auto& want = originals[which];
      bool same = got.size() == want.size();
      for (std::size_t k = 0; same && k < got.size(); ++k) same = got[k].key == want[k].key && got[k].value == want[k].value;
      if (same && mutant == segments[which]) {
        ++unchanged;
      } else {
        ++altered;
        std::fprintf(stderr, "checkpoint_sweep: mutant %lld of segment %zu was ACCEPTED (%s)\n", i, which,
                     same ? "same entries from other bytes" : "altered entries");
      }
    } catch (const parsl::CheckpointError&) {
      ++refused;
    }
  }
  std::filesystem::remove_all(dir);
  std::printf("checkpoint_sweep: %lld mutants: %lld refused with CheckpointError, %lld identical to the original "
              "(accepted), %lld altered and accepted, 0 crashes\n",
              mutants, refused, unchanged, altered);
  return altered == 0 ? 0 : 1;
}
