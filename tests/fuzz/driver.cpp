// The fuzzing driver: feeds a target (libFuzzer's LLVMFuzzerTestOneInput interface) first its
// seed corpus, then mutants of it, in a sanitizer build (-fsanitize=address,undefined). A
// sanitizer report or an exception that escapes the target ends the process with a non-zero
// status, after the input is written to fuzz-crash-<target>.bin for reproduction:
//   fuzz_<target> [--runs=N] [--seed=S] [--max-len=B] [--max-alloc-ratio=R] [--alloc-slack=B] CORPUS_DIR...
//   fuzz_<target> --replay FILE       runs one saved input
// The same targets link with clang's -fsanitize=fuzzer for coverage-guided runs
// (docs/fuzzing.md); this driver needs no clang and runs in the test suite.
#include <sanitizer/common_interface_defs.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <new>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "mutate.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size);


// Bytes allocated while the target runs: a decoder must not allocate much more than its
// input, whatever its length fields say: at most --max-alloc-ratio bytes per input byte plus
// --alloc-slack bytes (error messages and the like).
namespace {
std::size_t g_allocated = 0;
}  // namespace
// Every plain form of new and delete, so that allocation and release always pair up.
void* operator new(std::size_t n) {
  g_allocated += n;
  if (void* p = std::malloc(n == 0 ? 1 : n)) return p;
  throw std::bad_alloc();
}
void* operator new[](std::size_t n) { return operator new(n); }
void* operator new(std::size_t n, const std::nothrow_t&) noexcept {
  g_allocated += n;
  return std::malloc(n == 0 ? 1 : n);
}
void* operator new[](std::size_t n, const std::nothrow_t& t) noexcept { return operator new(n, t); }
// GCC cannot see that the operators new above allocate with malloc.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"
void operator delete(void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }
void operator delete[](void* p) noexcept { std::free(p); }
void operator delete[](void* p, std::size_t) noexcept { std::free(p); }
void operator delete(void* p, const std::nothrow_t&) noexcept { std::free(p); }
void operator delete[](void* p, const std::nothrow_t&) noexcept { std::free(p); }
#pragma GCC diagnostic pop

namespace {

double g_max_alloc_ratio = 32;
double g_alloc_slack = 16384;
const std::string* g_current = nullptr;
std::string g_name;

void save_current() {
  if (g_current == nullptr) return;
  const std::string file = "fuzz-crash-" + g_name + ".bin";
  if (std::FILE* f = std::fopen(file.c_str(), "wb")) {
    std::fwrite(g_current->data(), 1, g_current->size(), f);
    std::fclose(f);
    std::fprintf(stderr, "fuzz: the input that failed (%zu bytes) is in %s; rerun it with --replay %s\n",
                 g_current->size(), file.c_str(), file.c_str());
  }
}

void run(const std::string& input) {
  g_current = &input;
  g_allocated = 0;
  LLVMFuzzerTestOneInput(reinterpret_cast<const std::uint8_t*>(input.data()), input.size());
  const double allowed = g_max_alloc_ratio * static_cast<double>(input.size()) + g_alloc_slack;
  if (static_cast<double>(g_allocated) > allowed) {
    std::fprintf(stderr, "fuzz: an input of %zu bytes made the target allocate %zu bytes (more than %.0f)\n",
                 input.size(), g_allocated, allowed);
    save_current();
    std::exit(1);
  }
  g_current = nullptr;
}

}  // namespace

void parsl::fuzz::fail(const char* what) {
  std::fprintf(stderr, "fuzz: %s\n", what);
  save_current();
  std::abort();
}

int main(int argc, char** argv) {
  g_name = std::filesystem::path(argv[0]).filename().string();
  long long runs = 100000;
  std::uint64_t seed = static_cast<std::uint64_t>(std::chrono::steady_clock::now().time_since_epoch().count());
  std::size_t max_len = 1 << 16;
  std::vector<std::string> dirs;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a.rfind("--runs=", 0) == 0) runs = std::atoll(a.c_str() + 7);
    else if (a.rfind("--seed=", 0) == 0) seed = std::strtoull(a.c_str() + 7, nullptr, 10);
    else if (a.rfind("--max-len=", 0) == 0) max_len = std::strtoull(a.c_str() + 10, nullptr, 10);
    else if (a.rfind("--max-alloc-ratio=", 0) == 0) g_max_alloc_ratio = std::atof(a.c_str() + 18);
    else if (a.rfind("--alloc-slack=", 0) == 0) g_alloc_slack = std::atof(a.c_str() + 14);
    else if (a == "--replay" && i + 1 < argc) {
      std::ifstream in(argv[++i], std::ios::binary);
      const std::string input((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
      run(input);
      std::printf("%s: the input ran without a failure\n", g_name.c_str());
      return 0;
    } else dirs.push_back(a);
  }
  __sanitizer_set_death_callback(save_current);
  std::set_terminate([] {
    save_current();
    std::fprintf(stderr, "fuzz: an exception escaped the target\n");
    std::abort();
  });
  const auto seeds = parsl::fuzz::load_corpus(dirs);
  if (seeds.empty()) {
    std::fprintf(stderr, "%s: no seed inputs in the corpus folders given\n", g_name.c_str());
    return 2;
  }
  std::printf("%s: %zu seeds, %lld runs, seed=%llu (rerun with --seed=%llu)\n", g_name.c_str(), seeds.size(), runs,
              static_cast<unsigned long long>(seed), static_cast<unsigned long long>(seed));
  std::fflush(stdout);
  parsl::fuzz::Mutator m(seed);
  const auto t0 = std::chrono::steady_clock::now();
  long long done = 0;
  for (const auto& s : seeds) run(s), ++done;
  std::string input;
  for (; done < runs; ++done) {
    // Mostly mutants of seeds; sometimes a mutant of a mutant, to go deeper.
    const std::string& base = (m.below(4) == 0 && !input.empty()) ? input : seeds[m.below(seeds.size())];
    input = m.mutate(base, seeds[m.below(seeds.size())], 4, max_len);
    run(input);
  }
  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  std::printf("%s: %lld inputs in %.2f s (%.0f inputs/s), no crash, no sanitizer report\n", g_name.c_str(), done,
              secs, static_cast<double>(done) / secs);
  return 0;
}
