#include "explore/linearize.h"

#include <algorithm>
#include <functional>
#include <optional>
#include <set>

#include <fmt/format.h>

#include "reference/deferred.h"
#include "trace/snapshot_diff.h"
#include "trace/snapshot_json.h"

namespace mv::explore {

spec::Snapshot comparable(spec::Snapshot snap) {
  for (auto& cg : snap.cgroups) {
    cg.watermark_pages = 0;
    cg.failcnt = 0;
  }
  std::sort(snap.events.begin(), snap.events.end(), [](const spec::Event& a, const spec::Event& b) {
    return std::tie(a.kind, a.subject, a.value) < std::tie(b.kind, b.subject, b.value);
  });
  return snap;
}

namespace {

// A fingerprint of everything that can change what later operations do:
// the whole snapshot and the deferred queue, with the positions reached.
template <class State>
std::size_t fingerprint(const State& s, const std::vector<std::size_t>& positions,
                        const trace::TraceNames& names) {
  std::string key = trace::snapshot_json(reference::take_snapshot(s.kernel), names).dump();
  for (auto p : positions) key += fmt::format(",{}", p);
  auto item = [&](const reference::DeferredWork& w) {
    key += fmt::format(";{}:{}:{}", static_cast<int>(w.kind), w.subject, w.cpu);
  };
  for (const auto& w : s.kernel.deferred) item(w);
  for (const auto& held : s.held) {
    key += "|";
    if (held) item(*held);
  }
  return std::hash<std::string>{}(key);
}

// One step of a CPU's history. A quiesce is split at every item it ran: the
// item is taken off the queue (its PENDING bit cleared) in one step and run
// in the next, so that another CPU may queue it again in between, as the
// kernel's process_one_work allows.
struct Event {
  enum class Kind { op, dequeue, run } kind = Kind::op;
  const OpRecord* op = nullptr;
};

// The reference as a history replays it: the kernel and the item each
// CPU's quiesce has taken off the queue and not run yet.
struct State {
  reference::Kernel kernel;
  std::vector<std::optional<reference::DeferredWork>> held;
};

class Search {
 public:
  Search(const Harness& harness, const std::vector<OpRecord>& ops, const spec::Snapshot& impl_final)
      : harness_(harness), want_(comparable(impl_final)) {
    std::vector<std::vector<const OpRecord*>> by_thread;
    for (const auto& op : ops) {
      if (op.thread >= by_thread.size()) by_thread.resize(op.thread + 1);
      by_thread[op.thread].push_back(&op);
    }
    threads_.resize(by_thread.size());
    for (std::size_t t = 0; t < by_thread.size(); ++t) {
      auto& list = by_thread[t];
      std::sort(list.begin(), list.end(),
                [](const OpRecord* a, const OpRecord* b) { return a->index < b->index; });
      for (const OpRecord* op : list) {
        if (std::holds_alternative<spec::Quiesce>(op->op) && op->work_items > 0) {
          for (std::uint32_t i = 0; i < op->work_items; ++i) {
            threads_[t].push_back(Event{Event::Kind::dequeue, op});
            threads_[t].push_back(Event{Event::Kind::run, op});
          }
        } else {
          threads_[t].push_back(Event{Event::Kind::op, op});
        }
      }
      total_ += threads_[t].size();
    }
  }

  Linearization run(const reference::Kernel& setup) {
    std::vector<std::size_t> positions(threads_.size(), 0);
    State start{setup, std::vector<std::optional<reference::DeferredWork>>(threads_.size())};
    Linearization result;
    result.checked = true;
    result.ok = dfs(start, positions, 0);
    result.orders_tried = tried_;
    if (!result.ok) result.message = closest_;
    return result;
  }

 private:
  // One event applied to the reference as the impl ran it.
  static bool apply(State& s, std::size_t thread, const Event& e) {
    reference::Kernel& k = s.kernel;
    switch (e.kind) {
      case Event::Kind::dequeue:
        if (k.deferred.empty()) return false;
        s.held[thread] = k.deferred.front();
        k.deferred.pop_front();
        return true;
      case Event::Kind::run:
        reference::run_work(k, *s.held[thread]);
        s.held[thread].reset();
        return true;
      case Event::Kind::op:
        break;
    }
    const OpRecord& op = *e.op;
    if (std::holds_alternative<spec::Quiesce>(op.op)) return op.result == spec::Errno::ok;  // ran nothing
    k.percpu_charge_mutex_locked = op.drain_skipped;
    spec::Errno got = reference::apply_op(k, op.op);
    k.percpu_charge_mutex_locked = false;
    return got == op.result;
  }

  bool dfs(const State& s, std::vector<std::size_t>& positions, std::size_t depth) {
    if (depth == total_) return final_state_matches(s.kernel);
    if (!seen_.insert(fingerprint(s, positions, harness_.names)).second) return false;
    for (std::size_t t = 0; t < threads_.size(); ++t) {
      if (positions[t] == threads_[t].size()) continue;
      const Event& e = threads_[t][positions[t]];
      State next = s;
      if (!apply(next, t, e)) {
        note(depth, fmt::format("after {} steps in some order, CPU {}'s {} (its operation {}) has "
                                "no order giving the impl's result {}",
                                depth, e.op->thread, spec::op_name(e.op->op), e.op->index + 1,
                                spec::errno_name(e.op->result)));
        continue;
      }
      ++positions[t];
      bool found = dfs(next, positions, depth + 1);
      --positions[t];
      if (found) return true;
    }
    return false;
  }

  bool final_state_matches(const reference::Kernel& k) {
    ++tried_;
    reference::Kernel done = k;
    reference::quiesce(done);
    spec::Snapshot got = comparable(reference::take_snapshot(done));
    if (got == want_) return true;
    if (auto diff = trace::snapshot_difference(got, want_, harness_.names, "reference", "impl"))
      note(total_ + 1, fmt::format("every operation in some order gives the impl's results, but "
                                   "the final states differ: {}",
                                   *diff));
    return false;
  }

  void note(std::size_t depth, std::string message) {
    if (depth < best_depth_ && !closest_.empty()) return;
    best_depth_ = depth;
    closest_ = std::move(message);
  }

  const Harness& harness_;
  spec::Snapshot want_;
  std::vector<std::vector<Event>> threads_;
  std::size_t total_ = 0;
  std::set<std::size_t> seen_;
  std::size_t tried_ = 0;
  std::size_t best_depth_ = 0;
  std::string closest_;
};

}  // namespace

namespace {

bool overlap(const OpRecord& a, const OpRecord& b) {
  return a.start_step < b.end_step && b.start_step < a.end_step;
}

// An alloc of task T that ran at the same time as a migration of T.
bool alloc_raced_its_migration(const std::vector<OpRecord>& ops) {
  for (const auto& a : ops) {
    const auto* alloc = std::get_if<spec::Alloc>(&a.op);
    if (!alloc) continue;
    for (const auto& m : ops) {
      const auto* migrate = std::get_if<spec::Migrate>(&m.op);
      if (migrate && migrate->task == alloc->task && overlap(a, m)) return true;
    }
  }
  return false;
}

// An operation that ran drain_all_stock while another CPU ran one.
bool drain_raced_another_cpu(const std::vector<OpRecord>& ops) {
  for (const auto& d : ops) {
    if (!d.drained_all) continue;
    for (const auto& other : ops)
      if (other.thread != d.thread && overlap(d, other)) return true;
  }
  return false;
}

}  // namespace

Linearization linearize(const Harness& harness, const reference::Kernel& setup,
                        const std::vector<OpRecord>& ops, const spec::Snapshot& impl_final,
                        std::size_t max_ops) {
  Linearization not_checked;
  if (ops.size() > max_ops) {
    not_checked.why_not = "longer than the bound";
    return not_checked;
  }
  if (alloc_raced_its_migration(ops)) {
    not_checked.why_not = "an allocation ran while its task was migrated";
    return not_checked;
  }
  if (drain_raced_another_cpu(ops)) {
    not_checked.why_not = "drain_all_stock read the stock of a CPU running an operation";
    return not_checked;
  }
  return Search(harness, ops, impl_final).run(setup);
}

}  // namespace mv::explore
