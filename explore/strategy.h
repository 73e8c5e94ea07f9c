// How the explorer picks the CPU that runs next at every scheduling point
// (explore/scheduler.h): a random walk, PCT (Burckhardt, Kothari, Musuvathi,
// Nagarakatte, "A Randomized Scheduler with Probabilistic Guarantees of
// Finding Bugs", ASPLOS 2010), or a depth-first search of every schedule
// within a preemption bound (Musuvathi, Qadeer: CHESS, PLDI 2007), and the
// replay of a recorded schedule.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include "spec/preemption.h"

namespace mv::explore {

// What a thread does next, if it is a shared access: two threads' next
// steps commute unless they touch the same address and one of them writes
// (a lock, an unlock and every store or read-modify-write write).
struct NextAccess {
  bool valid = false;  // false: the next step touches nothing shared
  spec::Access kind = spec::Access::load;
  const void* address = nullptr;
};
bool dependent(const NextAccess& a, const NextAccess& b);

// One scheduling point as a strategy sees it.
struct Decision {
  std::size_t step = 0;                  // from 0 in this schedule
  std::optional<std::uint32_t> current;  // the thread that reached the point (none: it ended)
  bool current_enabled = false;          // it could go on (else switching is no preemption)
  std::vector<std::uint32_t> enabled;    // ascending; never empty
  std::vector<NextAccess> next;          // by thread
};

// Returned by pick(): every choice here repeats a schedule already run (the
// search's sleep sets): the run may stop.
inline constexpr std::uint32_t kAbandon = ~std::uint32_t{0};

// A schedule: the thread picked at every scheduling point, run-length
// encoded (thread, how many points in a row). What a token carries.
struct Segment {
  std::uint32_t thread = 0;
  std::uint32_t count = 0;
  bool operator==(const Segment&) const = default;
};
using Schedule = std::vector<Segment>;

void append_choice(Schedule& schedule, std::uint32_t thread);
// How many choices switched away from a thread that could go on.
std::size_t preemptions(const Schedule& schedule, const std::vector<Decision>& decisions);

class Strategy {
 public:
  virtual ~Strategy() = default;
  // Prepares the next schedule; false when there is none (a finished search).
  virtual bool next_schedule() = 0;
  virtual std::uint32_t pick(const Decision& d) = 0;
  // The schedule just run ended after `steps` points.
  virtual void end_schedule(std::size_t steps) {}
  virtual std::string name() const = 0;
};

enum class StrategyKind { random, pct, dfs };
std::optional<StrategyKind> parse_strategy(std::string_view name);
std::string_view strategy_name(StrategyKind kind);

struct StrategyOptions {
  StrategyKind kind = StrategyKind::random;
  std::uint64_t seed = 1;
  std::uint32_t depth = 3;             // PCT: the bug depth d (d - 1 priority change points)
  std::uint32_t preemption_bound = 2;  // DFS
};

std::unique_ptr<Strategy> make_strategy(const StrategyOptions& options, std::uint32_t nr_threads);

// Follows `schedule` segment by segment (a segment whose thread cannot run is
// skipped, one that ends early gives up its remaining points), then runs the
// current thread while it can, else the lowest enabled one: no preemption.
// Used to replay a token, and to try shrunk variants of a failing schedule.
class GuidedStrategy final : public Strategy {
 public:
  explicit GuidedStrategy(Schedule schedule) : schedule_(std::move(schedule)) {}
  bool next_schedule() override;
  std::uint32_t pick(const Decision& d) override;
  std::string name() const override { return "replay"; }

 private:
  Schedule schedule_;
  std::size_t segment_ = 0;
  std::uint32_t used_ = 0;
  bool started_ = false;
};

// The non-preemptive default: the current thread while it can run, else the
// lowest enabled one.
std::uint32_t default_choice(const Decision& d);

}  // namespace mv::explore
