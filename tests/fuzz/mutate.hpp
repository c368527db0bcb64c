#pragma once
// Mutations of real inputs for the fuzzing driver and the damaged-segment sweep: bit flips,
// interesting bytes and length-field values, insertions, deletions, duplications, splices
// and truncations. Deterministic for a given random generator.
#include <cstdint>
#include <cstring>
#include <random>
#include <string>
#include <vector>

namespace parsl::fuzz {

class Mutator {
 public:
  explicit Mutator(std::uint64_t seed) : rng_(seed) {}

  std::uint64_t next() { return rng_(); }
  std::size_t below(std::size_t n) { return n == 0 ? 0 : static_cast<std::size_t>(rng_() % n); }

  /// One to `max_steps` mutations of `in`; `other` is a second input to splice from.
  std::string mutate(std::string in, const std::string& other, int max_steps = 4, std::size_t max_size = 1 << 16) {
    const int steps = 1 + static_cast<int>(below(static_cast<std::size_t>(max_steps)));
    for (int s = 0; s < steps; ++s) step(in, other);
    if (in.size() > max_size) in.resize(max_size);
    return in;
  }

 private:
  void put(std::string& in, std::size_t at, std::uint64_t v, std::size_t width) {
    if (in.size() < width) return;
    at = std::min(at, in.size() - width);
    std::memcpy(in.data() + at, &v, width);  // little-endian, as the wire and the files are
  }

  std::uint64_t interesting(const std::string& in) {
    const std::uint64_t n = in.size();
    const std::uint64_t values[] = {0, 1, 2, 7, 8, 16, 0x7f, 0x80, 0xff, 0x100, 0x7fff, 0xffff, 0x7fffffff,
                                    0x80000000u, 0xffffffffu, std::uint64_t{1} << 32, std::uint64_t{1} << 40,
                                    std::uint64_t{1} << 62, ~std::uint64_t{0} >> 1, ~std::uint64_t{0},
                                    n, n - 1, n + 1, n / 2, n * 16, rng_()};
    return values[below(sizeof values / sizeof values[0])];
  }

  void step(std::string& in, const std::string& other) {
    if (in.empty()) {
      in.push_back(static_cast<char>(rng_()));
      return;
    }
    switch (below(11)) {
      case 0: in[below(in.size())] ^= static_cast<char>(1u << below(8)); break;
      case 1: {
        const unsigned char bytes[] = {0, 1, 2, 0x7f, 0x80, 0xfe, 0xff, '\n', '"', '{', '[', '\\', '#'};
        in[below(in.size())] = static_cast<char>(bytes[below(sizeof bytes)]);
        break;
      }
      case 2:  // a length field, at an 8-byte boundary (where the codec puts them) or anywhere
      case 3: {
        std::size_t at = below(in.size());
        if (below(2) == 0) at -= at % 8;
        put(in, at, interesting(in), 8);
        break;
      }
      case 4: put(in, below(in.size()), interesting(in), 4); break;
      case 5: in.insert(below(in.size() + 1), std::string(1 + below(16), static_cast<char>(rng_()))); break;
      case 6: {
        const std::size_t at = below(in.size()), n = 1 + below(std::min<std::size_t>(in.size() - at, 64));
        in.erase(at, n);
        break;
      }
      case 7: {
        const std::size_t at = below(in.size()), n = 1 + below(std::min<std::size_t>(in.size() - at, 64));
        in.insert(below(in.size() + 1), in.substr(at, n));
        break;
      }
      case 8:
        if (!other.empty()) {
          const std::size_t cut = below(in.size()), from = below(other.size());
          in = in.substr(0, cut) + other.substr(from);
        }
        break;
      case 9: in.resize(below(in.size())); break;
      default: in[below(in.size())] = static_cast<char>(rng_()); break;
    }
  }

  std::mt19937_64 rng_;
};

/// A target's invariant does not hold: prints `what`, saves the input (fuzz-crash-*.bin)
/// and aborts. Defined by the driver.
[[noreturn]] void fail(const char* what);

/// Every regular file directly in `dirs`, sorted by name.
std::vector<std::string> load_corpus(const std::vector<std::string>& dirs);

}  // namespace parsl::fuzz
