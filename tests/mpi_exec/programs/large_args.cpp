// Arguments and results of any size reach the other side whole: each size in --sizes=N,...
// (bytes) goes to a worker as an argument and comes back as a result, and both are checked
// byte for byte (by a position-dependent checksum). Above the channel's chunk size (1 GiB,
// or $PARSL_MPI_CHUNK_BYTES) messages travel in chunks; above 2 GiB an int count would be
// wrong. Exit 0 when every size came through.
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <string>
#include <utility>
#include <vector>

#include <parsl/parsl.hpp>

namespace {

std::uint64_t checksum(const std::vector<std::uint8_t>& v) {
  std::uint64_t h = 1469598103934665603ULL;
  for (std::size_t i = 0; i < v.size(); i += 4093) h = (h ^ v[i] ^ i) * 1099511628211ULL;
  std::uint64_t sum = 0;
  for (std::uint8_t b : v) sum += b;
  return h ^ (sum << 1);
}

std::vector<std::uint8_t> pattern(std::uint64_t n, std::uint64_t seed) {
  std::vector<std::uint8_t> v(n);
  for (std::uint64_t i = 0; i < n; ++i) v[i] = static_cast<std::uint8_t>((i * 131 + seed) >> 3);
  return v;
}

}  // namespace

inline const auto measure = parsl::app("large_args.measure", [](const std::vector<std::uint8_t>& v) {
  return std::make_pair(static_cast<std::uint64_t>(v.size()), checksum(v));
});
inline const auto produce = parsl::app("large_args.produce", [](std::uint64_t n, std::uint64_t seed) {
  return pattern(n, seed);
});

int main(int argc, char** argv) {
  std::vector<std::uint64_t> sizes{1000, 5 << 20};
  for (int i = 1; i < argc; ++i)
    if (std::strncmp(argv[i], "--sizes=", 8) == 0) {
      sizes.clear();
      for (const char* p = argv[i] + 8; *p;) {
        char* end = nullptr;
        sizes.push_back(std::strtoull(p, &end, 10));
        p = *end == ',' ? end + 1 : end;
      }
    }
  int bad = 0;
  const int status = parsl::run(argc, argv, [&] {
    for (std::uint64_t n : sizes) {
      std::uint64_t want = 0;
      parsl::AppFuture<std::pair<std::uint64_t, std::uint64_t>> got;
      {
        auto data = pattern(n, 7);
        want = checksum(data);
        got = measure(std::move(data));
      }
      const auto [size, sum] = got.get();
      if (size != n || sum != want) {
        ++bad;
        std::printf("argument of %llu bytes: the worker saw %llu bytes, checksum %s\n",
                    static_cast<unsigned long long>(n), static_cast<unsigned long long>(size),
                    sum == want ? "equal" : "different");
      }
      const auto back = produce(n, 11).get();
      if (back.size() != n || checksum(back) != checksum(pattern(n, 11))) {
        ++bad;
        std::printf("result of %llu bytes: %llu came back, %s\n", static_cast<unsigned long long>(n),
                    static_cast<unsigned long long>(back.size()), "not the bytes sent");
      }
      std::printf("%llu bytes there and back: %s\n", static_cast<unsigned long long>(n), bad ? "WRONG" : "whole");
    }
  });
  return status != 0 ? status : bad != 0 ? 1 : 0;
}
