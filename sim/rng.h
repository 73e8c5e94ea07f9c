// The simulation's only source of randomness: a 64-bit Mersenne Twister from
// the printed seed, with the ranges mapped here rather than by <random>'s
// distributions (whose algorithms the standard leaves to the library), so a
// seed gives the same run on every platform and standard library.
#pragma once

#include <cstdint>
#include <random>
#include <vector>

namespace mv::sim {

class Rng {
 public:
  explicit Rng(std::uint64_t seed) : engine_(seed) {}

  std::uint64_t next() { return engine_(); }
  // Uniform in [0, n), n > 0 (multiply-shift: no modulo bias worth the name at
  // the ranges a workload draws from).
  std::uint64_t below(std::uint64_t n) {
    return static_cast<std::uint64_t>((static_cast<unsigned __int128>(next()) * n) >> 64);
  }
  // Uniform in [lo, hi].
  std::uint64_t between(std::uint64_t lo, std::uint64_t hi) { return lo + below(hi - lo + 1); }
  // Uniform in [0, 1), 53 bits.
  double unit() { return static_cast<double>(next() >> 11) * 0x1.0p-53; }
  bool chance(double p) { return unit() < p; }

 private:
  std::mt19937_64 engine_;
};

// A Zipf(s) popularity law over n items (item 0 the most popular): the
// cumulative weights once, then a binary search per draw.
class Zipf {
 public:
  Zipf(std::uint32_t n, double exponent);
  std::uint32_t draw(Rng& rng) const;
  std::uint32_t size() const { return static_cast<std::uint32_t>(cumulative_.size()); }

 private:
  std::vector<double> cumulative_;  // normalized: back() == 1
};

}  // namespace mv::sim
