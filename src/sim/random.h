// Deterministic random variates for the simulator: the same seed gives the
// same stream on every platform and standard library (std::*_distribution
// are implementation-defined, so they are not used).
//
// Rng is xoshiro256** seeded through SplitMix64. NormalQuantile is Acklam's
// rational approximation refined by one Halley step (|error| < 1e-9).
//
// Thread-safety: an Rng is a plain value, one per thread; the free functions
// are pure.
#pragma once

#include <array>
#include <cstdint>

namespace threatd::sim {

class Rng {
 public:
  explicit Rng(uint64_t seed);

  uint64_t NextU64();
  double Uniform();                     // [0, 1)
  double UniformOpen();                 // (0, 1)
  uint64_t Below(uint64_t bound);       // [0, bound), bound > 0
  double Normal();                      // standard normal (Box-Muller)
  double Exponential(double rate);      // mean 1 / rate, rate > 0

 private:
  std::array<uint64_t, 4> s_{};
  double spare_normal_ = 0;
  bool has_spare_ = false;
};

double NormalCdf(double z);
double NormalQuantile(double p);  // p in (0, 1)

}  // namespace threatd::sim
