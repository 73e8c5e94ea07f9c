#include "proofs/obligation.h"

#include <fmt/core.h>

#include <algorithm>
#include <limits>

namespace mv::proofs {

std::string_view outcome_name(Outcome outcome) {
  switch (outcome) {
    case Outcome::proved: return "proved";
    case Outcome::refuted: return "refuted";
    case Outcome::vacuous: return "vacuous";
    case Outcome::unknown: return "unknown";
  }
  return "?";
}

std::string model_value(const z3::model& model, const z3::expr& e) {
  z3::expr v = model.eval(e, true);
  if (v.is_bool()) return v.is_true() ? "true" : "false";
  return v.get_decimal_string(0);
}

bool model_true(const z3::model& model, const z3::expr& e) { return model.eval(e, true).is_true(); }

namespace {

using Clock = std::chrono::steady_clock;

// Z3 resource units this thread's context has consumed so far. The count is
// context-wide and cumulative ("rlimit count" in any solver's statistics), so
// a discharge measures what it consumed as a difference.
std::uint64_t rlimit_count() {
  z3::stats stats = z3::solver(z3_context()).statistics();
  for (unsigned i = 0; i < stats.size(); ++i)
    if (stats.key(i) == "rlimit count")
      return stats.is_uint(i) ? stats.uint_value(i) : static_cast<std::uint64_t>(stats.double_value(i));
  return 0;  // nothing consumed yet: Z3 omits a zero count
}

// What is left of one discharge's budget. Z3's `rlimit` parameter is relative
// to the count when a check starts, so each check gets exactly what is left.
class Meter {
 public:
  explicit Meter(Budget budget)
      : budget_(budget), start_count_(rlimit_count()), deadline_(Clock::now() + std::chrono::milliseconds(budget.timeout_ms)) {}

  std::uint64_t consumed() const { return rlimit_count() - start_count_; }
  bool exhausted() const { return consumed() >= budget_.rlimit; }

  z3::params params() const {
    z3::params p(z3_context());
    auto left_ms = std::chrono::duration_cast<std::chrono::milliseconds>(deadline_ - Clock::now()).count();
    p.set("timeout", left_ms > 0 ? static_cast<unsigned>(left_ms) : 1u);
    // 0 would mean "no limit"; Z3 takes the limit as an unsigned.
    std::uint64_t left = budget_.rlimit - std::min(budget_.rlimit, consumed());
    p.set("rlimit", static_cast<unsigned>(std::clamp<std::uint64_t>(left, 1, std::numeric_limits<unsigned>::max())));
    return p;
  }

  // Why a check came out unknown: the deterministic budget, the backstop, or Z3's own reason.
  std::string why_unknown(const std::string& reason) const {
    if (exhausted())
      return fmt::format("resource budget exhausted ({} Z3 rlimit units; --rlimit raises it): {}", budget_.rlimit, reason);
    if (Clock::now() >= deadline_)
      return fmt::format("wall-clock backstop of {} ms hit before the resource budget ({} of {} rlimit units "
                         "used; --timeout-ms raises it): {}",
                         budget_.timeout_ms, consumed(), budget_.rlimit, reason);
    return reason;
  }

 private:
  Budget budget_;
  std::uint64_t start_count_;
  Clock::time_point deadline_;
};

// Every lemma is quantifier-free bit-vector arithmetic.
z3::solver bv_solver(Tactic tactic, const Meter& meter) {
  z3::context& ctx = z3_context();
  if (tactic == Tactic::qf_bv) {
    z3::solver s(ctx, "QF_BV");
    s.set(meter.params());
    return s;
  }
  z3::params som(ctx);
  som.set("som", true);
  z3::tactic simplify = z3::with(z3::tactic(ctx, "simplify"), som);
  z3::tactic t = simplify & z3::tactic(ctx, "propagate-values") & z3::tactic(ctx, "solve-eqs") &
                 z3::tactic(ctx, "cofactor-term-ite") & simplify & z3::tactic(ctx, "bit-blast") &
                 z3::tactic(ctx, "sat");
  z3::solver s = t.mk_solver();
  s.set(meter.params());
  return s;
}

std::string prefixed(const Obligation& ob, std::string text) {
  return ob.what.empty() ? text : ob.what + ": " + text;
}

// The smallest counterexample in ob.minimize, or nullopt if the optimizer gave up.
std::optional<z3::model> minimal_counterexample(const Obligation& ob, const Meter& meter) {
  z3::optimize opt(z3_context());
  opt.set(meter.params());
  opt.add(ob.assumptions);
  opt.add(!ob.claim);
  opt.minimize(*ob.minimize);
  if (opt.check() != z3::sat) return std::nullopt;
  return opt.get_model();
}

// Assumptions already shown satisfiable in this discharge (obligations of one
// lemma often share them).
using SatisfiableCache = std::vector<z3::expr>;

LemmaResult discharge_one(const Obligation& ob, const Meter& meter, SatisfiableCache& satisfiable) {
  bool known = std::any_of(satisfiable.begin(), satisfiable.end(),
                           [&](const z3::expr& e) { return z3::eq(e, ob.assumptions); });
  if (!known) {
    z3::solver vacuity = bv_solver(ob.tactic, meter);
    vacuity.add(ob.assumptions);
    switch (vacuity.check()) {
      case z3::unsat:
        return {Outcome::vacuous, prefixed(ob, "the assumptions are unsatisfiable: the claim would hold vacuously")};
      case z3::unknown:
        return {Outcome::unknown, prefixed(ob, "vacuity check: " + meter.why_unknown(vacuity.reason_unknown()))};
      case z3::sat: break;
    }
    satisfiable.push_back(ob.assumptions);
  }
  z3::solver s = bv_solver(ob.tactic, meter);
  s.add(ob.assumptions);
  s.add(!ob.claim);
  switch (s.check()) {
    case z3::unsat: return {Outcome::proved, ""};
    case z3::unknown: return {Outcome::unknown, prefixed(ob, meter.why_unknown(s.reason_unknown()))};
    case z3::sat: break;
  }
  z3::model model = s.get_model();
  std::string note;
  if (ob.minimize) {
    if (auto smallest = minimal_counterexample(ob, meter)) {
      model = *smallest;
      note = " [smallest counterexample]";
    } else {
      note = " [not minimized: the optimizer ran out of budget]";
    }
  }
  return {Outcome::refuted, prefixed(ob, ob.explain ? ob.explain(model) + note : model.to_string())};
}

}  // namespace

LemmaResult discharge(const std::vector<Obligation>& obligations, Budget budget) {
  auto start = Clock::now();
  Meter meter(budget);
  LemmaResult result{Outcome::proved, ""};
  try {
    std::vector<LemmaResult::Part> parts;
    SatisfiableCache satisfiable;
    for (const Obligation& ob : obligations) {
      auto part_start = Clock::now();
      std::uint64_t part_count = meter.consumed();
      result = discharge_one(ob, meter, satisfiable);
      parts.push_back({ob.what, std::chrono::duration<double>(Clock::now() - part_start).count(),
                       meter.consumed() - part_count});
      if (result.outcome != Outcome::proved) break;
    }
    result.parts = std::move(parts);
  } catch (const z3::exception& e) {
    result = {Outcome::unknown, std::string("z3 error: ") + e.msg()};
  }
  result.seconds = std::chrono::duration<double>(Clock::now() - start).count();
  result.rlimit = meter.consumed();
  return result;
}

}  // namespace mv::proofs
