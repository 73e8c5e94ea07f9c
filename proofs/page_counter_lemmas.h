// Lemmas about the hierarchical page_counter (arith/page_counter.h):
// page_counter_try_charge with its rollback loop, page_counter_cancel.
// Kernel: mm/page_counter.c v6.6.
#pragma once

#include <fmt/core.h>

#include <cstdint>
#include <string>
#include <vector>

#include "proofs/kernel_arith.h"
#include "proofs/lemma.h"

namespace mv::proofs {

inline constexpr unsigned kMaxHierarchyDepth = 4;  // levels from the charged memcg to the root

// PAGE_COUNTER_MAX = LONG_MAX / PAGE_SIZE for the configured width of long.
inline std::uint64_t page_counter_max_pages(const LemmaConfig& c) {
  return ((std::uint64_t{1} << (c.long_bits - 1)) - 1) >> c.page.shift;
}

namespace page_counter_detail {

// page_counter_try_charge (v6.6) over `depth` levels (0 = the charged counter,
// depth - 1 = the root). Returns each level's usage afterwards and whether the
// charge succeeded; `rollback_underflow` collects page_counter_cancel's WARNs.
template <class D, class Arith>
struct TryCharge {
  std::vector<typename D::u64> usage_after;
  z3::expr succeeded;
  z3::expr rollback_underflow;
};

template <class D, class Arith>
TryCharge<D, Arith> try_charge(const std::vector<typename D::u64>& usage,
                               const std::vector<typename D::u64>& max, const typename D::u64& nr_pages) {
  auto& ctx = z3_context();
  const unsigned depth = static_cast<unsigned>(usage.size());
  std::vector<arith::LevelCharge<D>> charge;
  for (unsigned i = 0; i < depth; ++i)
    charge.push_back(Arith::template level_try_charge<D>(usage[i], nr_pages, max[i]));
  // `fails_first[j]`: the loop reaches level j and `new > c->max` there.
  std::vector<z3::expr> fails_first;
  z3::expr reached = ctx.bool_val(true);
  for (unsigned j = 0; j < depth; ++j) {
    fails_first.push_back(reached && charge[j].over_max.expr());
    reached = reached && !charge[j].over_max.expr();
  }
  TryCharge<D, Arith> out{{}, reached, ctx.bool_val(false)};
  for (unsigned i = 0; i < depth; ++i) {
    // Success: every level keeps its speculative add.
    typename D::u64 after = charge[i].usage;
    for (unsigned j = 0; j < depth; ++j) {
      typename D::u64 on_failure_at_j = usage[i];  // levels above j were never touched
      if (i == j) {
        // `atomic_long_sub(nr_pages, &c->usage)` at the failing level.
        on_failure_at_j = charge[i].usage - nr_pages;
      } else if (Arith::rollback_cancels(i, j)) {
        auto cancel = Arith::template level_cancel<D>(charge[i].usage, nr_pages);
        on_failure_at_j = cancel.usage;
        out.rollback_underflow = out.rollback_underflow || (fails_first[j] && cancel.underflow.expr());
      } else if (i < j) {
        on_failure_at_j = charge[i].usage;  // charged and never rolled back
      }
      after = D::select(Z3Bool(fails_first[j]), on_failure_at_j, after);
    }
    out.usage_after.push_back(after);
  }
  return out;
}

}  // namespace page_counter_detail

// page_counter_try_charge (v6.6) over hierarchies of depth 1..4 with symbolic
// usages and limits: success means every level was charged nr_pages and none
// exceeds its max (INV-LIMIT); failure leaves every level unchanged and means
// some level would have exceeded its max (no spurious failure: a charge up to
// exactly max succeeds); the rollback never underflows.
template <class Arith = KernelArith>
LemmaResult page_counter_try_charge_limit(const LemmaConfig& c) {
  return run_at_width(c, [&]<class D>() {
    std::vector<Obligation> obligations;
    const std::uint64_t counter_max = page_counter_max_pages(c);
    for (unsigned depth = 1; depth <= kMaxHierarchyDepth; ++depth) {
      std::vector<typename D::u64> usage, max;
      std::vector<z3::expr> assumptions;
      auto nr_pages = D::var64(fmt::format("d{}_nr_pages", depth));
      assumptions.push_back(z3::ule(wide(nr_pages), wide_lit(counter_max)));
      for (unsigned i = 0; i < depth; ++i) {
        usage.push_back(D::var64(fmt::format("d{}_usage{}", depth, i)));
        max.push_back(D::var64(fmt::format("d{}_max{}", depth, i)));
        // Usages and limits are page counts below PAGE_COUNTER_MAX.
        assumptions.push_back(z3::ule(wide(usage[i]), wide_lit(counter_max)));
        assumptions.push_back(z3::ule(wide(max[i]), wide_lit(counter_max)));
      }
      auto tc = page_counter_detail::try_charge<D, Arith>(usage, max, nr_pages);
      std::vector<z3::expr> on_success, on_failure;
      z3::expr some_level_over = z3_context().bool_val(false);
      for (unsigned i = 0; i < depth; ++i) {
        on_success.push_back(z3::ule(wide(tc.usage_after[i]), wide(max[i])));
        on_success.push_back(wide(tc.usage_after[i]) == wide(usage[i]) + wide(nr_pages));
        on_failure.push_back(wide(tc.usage_after[i]) == wide(usage[i]));
        some_level_over = some_level_over || z3::ugt(wide(usage[i]) + wide(nr_pages), wide(max[i]));
      }
      on_failure.push_back(some_level_over);
      on_failure.push_back(!tc.rollback_underflow);
      auto claim = z3::ite(tc.succeeded, all_of(on_success), all_of(on_failure));
      auto explain = [=](const z3::model& m) {
        std::string levels;
        for (unsigned i = 0; i < depth; ++i)
          levels += fmt::format(" level{}: usage {} -> {} (max {});", i, model_value(m, usage[i]),
                                model_value(m, tc.usage_after[i]), model_value(m, max[i]));
        return fmt::format("page_counter_try_charge(nr_pages={}) {}:{}{}", model_value(m, nr_pages),
                           model_true(m, tc.succeeded) ? "succeeded" : "failed", levels,
                           model_true(m, tc.rollback_underflow) ? " rollback underflowed" : "");
      };
      obligations.push_back({fmt::format("depth {}", depth), all_of(assumptions), claim, explain, std::nullopt});
    }
    return obligations;
  });
}

// page_counter_cancel (v5.13+, so v6.6): uncharging at most the usage gives
// usage - nr_pages without a WARN; more than the usage WARNs and clamps to 0
// (9317d0fffeb4): the counter never goes negative or grows.
template <class Arith = KernelArith>
LemmaResult page_counter_cancel_clamps(const LemmaConfig& c) {
  return run_at_width(c, [&]<class D>() {
    const std::uint64_t counter_max = page_counter_max_pages(c);
    auto usage = D::var64("usage");
    auto nr_pages = D::var64("nr_pages");
    auto r = Arith::template level_cancel<D>(usage, nr_pages);
    auto assumptions = z3::ule(wide(usage), wide_lit(counter_max)) && z3::ule(wide(nr_pages), wide_lit(counter_max));
    auto fits = z3::ule(wide(nr_pages), wide(usage));
    auto claim = all_of({
        z3::ule(wide(r.usage), wide(usage)),
        r.underflow.expr() == !fits,
        z3::implies(fits, wide(r.usage) + wide(nr_pages) == wide(usage)),
        z3::implies(!fits, wide(r.usage) == wide_lit(0)),
    });
    auto explain = [=](const z3::model& m) {
      return fmt::format("page_counter_cancel(usage={}, nr_pages={}) -> usage {} (WARN {})", model_value(m, usage),
                         model_value(m, nr_pages), model_value(m, r.usage), model_value(m, r.underflow));
    };
    return std::vector<Obligation>{{"", assumptions, claim, explain, std::nullopt}};
  });
}

}  // namespace mv::proofs
