// A progress bar on stderr, drawn only when stderr is a terminal (never in a
// CI log) and redrawn once per percent.
#pragma once

#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <iostream>
#include <string>

#include <fmt/format.h>

namespace mv::cli {

class ProgressLine {
 public:
  explicit ProgressLine(std::uint64_t total) : total_(total), enabled_(isatty(STDERR_FILENO) == 1) {}
  // `what` follows the counts: "1200/10000 schedules, 3100/s".
  void update(std::uint64_t done, const std::string& what) {
    if (!enabled_) return;
    const std::uint64_t percent = total_ > 0 ? done * 100 / total_ : 100;
    if (percent == shown_percent_ && done != total_) return;
    shown_percent_ = percent;
    const std::uint64_t width = 30;
    const std::uint64_t filled = total_ > 0 ? width * std::min(done, total_) / total_ : width;
    std::cerr << fmt::format("\r[{:#<{}}{:.<{}}] {}", "", filled, "", width - filled, what)
              << std::flush;
  }
  void finish() {
    if (enabled_) std::cerr << "\r" << std::string(78, ' ') << "\r" << std::flush;
  }

 private:
  std::uint64_t total_;
  bool enabled_;
  std::uint64_t shown_percent_ = ~std::uint64_t{0};
};

}  // namespace mv::cli
