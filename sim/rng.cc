#include "sim/rng.h"

#include <algorithm>
#include <cmath>
#include <stdexcept>

namespace mv::sim {

Zipf::Zipf(std::uint32_t n, double exponent) {
  if (n == 0) throw std::invalid_argument("Zipf over no items");
  cumulative_.reserve(n);
  double total = 0;
  for (std::uint32_t i = 1; i <= n; ++i) {
    total += 1.0 / std::pow(static_cast<double>(i), exponent);
    cumulative_.push_back(total);
  }
  for (auto& c : cumulative_) c /= total;
  cumulative_.back() = 1.0;
}

std::uint32_t Zipf::draw(Rng& rng) const {
  double u = rng.unit();
  auto it = std::upper_bound(cumulative_.begin(), cumulative_.end(), u);
  return static_cast<std::uint32_t>(std::min<std::size_t>(it - cumulative_.begin(),
                                                          cumulative_.size() - 1));
}

}  // namespace mv::sim
