#include "explore/strategy.h"

#include <algorithm>
#include <numeric>
#include <set>

namespace mv::explore {

void append_choice(Schedule& schedule, std::uint32_t thread) {
  if (!schedule.empty() && schedule.back().thread == thread)
    ++schedule.back().count;
  else
    schedule.push_back(Segment{thread, 1});
}

std::size_t preemptions(const Schedule& schedule, const std::vector<Decision>& decisions) {
  std::size_t n = 0, i = 0;
  for (const auto& seg : schedule)
    for (std::uint32_t c = 0; c < seg.count && i < decisions.size(); ++c, ++i) {
      const auto& d = decisions[i];
      if (d.current && d.current_enabled && seg.thread != *d.current) ++n;
    }
  return n;
}

bool dependent(const NextAccess& a, const NextAccess& b) {
  if (!a.valid || !b.valid || a.address != b.address) return false;
  return !(a.kind == spec::Access::load && b.kind == spec::Access::load);
}
// (A step is one scheduling point to the next: exactly one interposed access,
// plus code that touches only what a lock it holds protects, or nothing
// shared. The data-race detector checks that for the work items.)

std::uint32_t default_choice(const Decision& d) {
  if (d.current && d.current_enabled) return *d.current;
  return d.enabled.front();
}

std::optional<StrategyKind> parse_strategy(std::string_view name) {
  if (name == "random") return StrategyKind::random;
  if (name == "pct") return StrategyKind::pct;
  if (name == "dfs") return StrategyKind::dfs;
  return std::nullopt;
}

std::string_view strategy_name(StrategyKind kind) {
  switch (kind) {
    case StrategyKind::random: return "random";
    case StrategyKind::pct: return "pct";
    case StrategyKind::dfs: return "dfs";
  }
  return "?";
}

namespace {

bool contains(const std::vector<std::uint32_t>& v, std::uint32_t x) {
  return std::binary_search(v.begin(), v.end(), x);
}

// A uniformly random enabled thread at every point.
class RandomWalk final : public Strategy {
 public:
  explicit RandomWalk(std::uint64_t seed) : rng_(seed) {}
  bool next_schedule() override { return true; }
  std::uint32_t pick(const Decision& d) override {
    return d.enabled[std::uniform_int_distribution<std::size_t>(0, d.enabled.size() - 1)(rng_)];
  }
  std::string name() const override { return "random"; }

 private:
  std::mt19937_64 rng_;
};

// PCT: random distinct priorities d .. d+n-1 for the n threads, d-1 change
// points drawn among the k steps of a schedule (k: the longest schedule seen
// so far); at the i-th change point the running thread drops to priority
// d-i, below every initial one. The enabled thread of highest priority runs.
// A bug of depth d is then found with probability at least 1/(n k^(d-1)).
class Pct final : public Strategy {
 public:
  Pct(std::uint64_t seed, std::uint32_t depth, std::uint32_t nr_threads)
      : rng_(seed), depth_(std::max<std::uint32_t>(depth, 1)), nr_threads_(nr_threads) {}

  bool next_schedule() override {
    priority_.resize(nr_threads_);
    std::iota(priority_.begin(), priority_.end(), static_cast<int>(depth_));
    std::shuffle(priority_.begin(), priority_.end(), rng_);
    change_points_.clear();
    std::uniform_int_distribution<std::size_t> step(0, std::max<std::size_t>(k_, 1) - 1);
    for (std::uint32_t i = 1; i < depth_; ++i) change_points_.push_back(step(rng_));
    return true;
  }

  std::uint32_t pick(const Decision& d) override {
    if (d.current)
      for (std::size_t i = 0; i < change_points_.size(); ++i)
        if (change_points_[i] == d.step) priority_[*d.current] = static_cast<int>(depth_ - 1 - i);
    std::uint32_t best = d.enabled.front();
    for (auto t : d.enabled)
      if (priority_[t] > priority_[best]) best = t;
    return best;
  }

  void end_schedule(std::size_t steps) override { k_ = std::max(k_, steps); }
  std::string name() const override { return "pct"; }

 private:
  std::mt19937_64 rng_;
  std::uint32_t depth_;
  std::uint32_t nr_threads_;
  std::size_t k_ = 64;  // until a schedule has been seen
  std::vector<int> priority_;
  std::vector<std::size_t> change_points_;
};

// Depth-first search of the schedule tree, stateless (every schedule re-runs
// from the start), with at most `bound` preemptions per schedule and sleep
// sets (Godefroid 1996): once every schedule that runs thread t at a point
// has been explored, t sleeps in the sibling branches until some step that
// does not commute with t's next step runs, since running t there first
// would only repeat an explored schedule up to the order of commuting steps.
// At each point the non-preemptive choice comes first, then the other
// enabled threads in order; the search ends when every branch was run.
class Dfs final : public Strategy {
 public:
  explicit Dfs(std::uint32_t bound) : bound_(bound) {}

  bool next_schedule() override {
    if (!started_) {
      started_ = true;
      return true;
    }
    // Backtrack to the deepest point with an untried choice within the bound.
    while (!path_.empty()) {
      Node& node = path_.back();
      node.sleep |= bit(node.chosen());
      while (++node.next < node.choices.size())
        if (!(node.sleep & bit(node.chosen())) &&
            node.preemptions_before + cost(node, node.chosen()) <= bound_) {
          replaying_ = true;
          return true;
        }
      path_.pop_back();
    }
    return false;
  }

  std::uint32_t pick(const Decision& d) override {
    const std::size_t i = d.step;
    if (replaying_ && i < path_.size()) {
      if (i + 1 == path_.size()) replaying_ = false;  // the branch point: its new choice
      return path_[i].chosen();
    }
    // A point past the replayed prefix: record it, take the first choice
    // that is awake, non-preemptive if it can be.
    Node node;
    node.current = d.current;
    node.current_enabled = d.current_enabled;
    node.next_access = d.next;
    if (!path_.empty()) {
      const Node& parent = path_.back();
      node.preemptions_before = parent.preemptions_before + cost(parent, parent.chosen());
      const std::uint32_t ran = parent.chosen();
      for (std::uint32_t t = 0; t < parent.next_access.size(); ++t)
        if ((parent.sleep & bit(t)) && t != ran &&
            !dependent(parent.next_access[t], parent.next_access[ran]))
          node.sleep |= bit(t);
    }
    const std::uint32_t first = default_choice(d);
    auto allowed = [&](std::uint32_t t) {
      return !(node.sleep & bit(t)) && node.preemptions_before + cost(node, t) <= bound_;
    };
    if (allowed(first)) node.choices.push_back(first);
    for (auto t : d.enabled)
      if (t != first && allowed(t)) node.choices.push_back(t);
    if (node.choices.empty()) return kAbandon;  // every branch here was run already
    path_.push_back(std::move(node));
    return path_.back().chosen();
  }

  std::string name() const override { return "dfs"; }

 private:
  struct Node {
    std::optional<std::uint32_t> current;
    bool current_enabled = false;
    std::vector<std::uint32_t> choices;
    std::size_t next = 0;
    std::size_t preemptions_before = 0;
    std::uint64_t sleep = 0;  // threads asleep at this point
    std::vector<NextAccess> next_access;
    std::uint32_t chosen() const { return choices[next]; }
  };
  static std::uint64_t bit(std::uint32_t t) { return std::uint64_t{1} << t; }
  static std::size_t cost(const Node& node, std::uint32_t choice) {
    return node.current && node.current_enabled && choice != *node.current ? 1 : 0;
  }

  std::uint32_t bound_;
  bool started_ = false;
  std::vector<Node> path_;  // the points of the last schedule
  bool replaying_ = false;  // following path_ up to its last node's new choice
};

}  // namespace

std::unique_ptr<Strategy> make_strategy(const StrategyOptions& options, std::uint32_t nr_threads) {
  switch (options.kind) {
    case StrategyKind::random: return std::make_unique<RandomWalk>(options.seed);
    case StrategyKind::pct: return std::make_unique<Pct>(options.seed, options.depth, nr_threads);
    case StrategyKind::dfs: return std::make_unique<Dfs>(options.preemption_bound);
  }
  return nullptr;
}

bool GuidedStrategy::next_schedule() {
  if (started_) return false;
  started_ = true;
  return true;
}

std::uint32_t GuidedStrategy::pick(const Decision& d) {
  while (segment_ < schedule_.size()) {
    const Segment& seg = schedule_[segment_];
    // A thread that ended or blocked gives up the rest of its segment.
    if (used_ < seg.count && contains(d.enabled, seg.thread)) {
      ++used_;
      return seg.thread;
    }
    ++segment_;
    used_ = 0;
  }
  return default_choice(d);
}

}  // namespace mv::explore
