#include "proofs/obligation.h"

#include <fmt/core.h>

#include <algorithm>

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

// Every lemma is quantifier-free bit-vector arithmetic.
z3::solver bv_solver(Tactic tactic, unsigned timeout_ms) {
  z3::context& ctx = z3_context();
  z3::params p(ctx);
  p.set("timeout", std::max(1u, timeout_ms));
  if (tactic == Tactic::qf_bv) {
    z3::solver s(ctx, "QF_BV");
    s.set(p);
    return s;
  }
  z3::params som(ctx);
  som.set("som", true);
  z3::tactic simplify = z3::with(z3::tactic(ctx, "simplify"), som);
  z3::tactic t = simplify & z3::tactic(ctx, "propagate-values") & z3::tactic(ctx, "solve-eqs") &
                 z3::tactic(ctx, "cofactor-term-ite") & simplify & z3::tactic(ctx, "bit-blast") &
                 z3::tactic(ctx, "sat");
  z3::solver s = t.mk_solver();
  s.set(p);
  return s;
}

unsigned remaining_ms(Clock::time_point deadline) {
  auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
  return left > 0 ? static_cast<unsigned>(left) : 1u;
}

std::string prefixed(const Obligation& ob, std::string text) {
  return ob.what.empty() ? text : ob.what + ": " + text;
}

// The smallest counterexample in ob.minimize, or nullopt if the optimizer gave up.
std::optional<z3::model> minimal_counterexample(const Obligation& ob, unsigned timeout_ms) {
  z3::context& ctx = z3_context();
  z3::optimize opt(ctx);
  z3::params p(ctx);
  p.set("timeout", std::max(1u, timeout_ms));
  opt.set(p);
  opt.add(ob.assumptions);
  opt.add(!ob.claim);
  opt.minimize(*ob.minimize);
  if (opt.check() != z3::sat) return std::nullopt;
  return opt.get_model();
}

// Assumptions already shown satisfiable in this discharge (obligations of one
// lemma often share them).
using SatisfiableCache = std::vector<z3::expr>;

LemmaResult discharge_one(const Obligation& ob, Clock::time_point deadline, SatisfiableCache& satisfiable) {
  bool known = std::any_of(satisfiable.begin(), satisfiable.end(),
                           [&](const z3::expr& e) { return z3::eq(e, ob.assumptions); });
  if (!known) {
    z3::solver vacuity = bv_solver(ob.tactic, remaining_ms(deadline));
    vacuity.add(ob.assumptions);
    switch (vacuity.check()) {
      case z3::unsat:
        return {Outcome::vacuous, prefixed(ob, "the assumptions are unsatisfiable: the claim would hold vacuously"), 0, {}};
      case z3::unknown:
        return {Outcome::unknown, prefixed(ob, "vacuity check: " + vacuity.reason_unknown()), 0, {}};
      case z3::sat: break;
    }
    satisfiable.push_back(ob.assumptions);
  }
  z3::solver s = bv_solver(ob.tactic, remaining_ms(deadline));
  s.add(ob.assumptions);
  s.add(!ob.claim);
  switch (s.check()) {
    case z3::unsat: return {Outcome::proved, "", 0, {}};
    case z3::unknown: return {Outcome::unknown, prefixed(ob, s.reason_unknown()), 0, {}};
    case z3::sat: break;
  }
  z3::model model = s.get_model();
  std::string note;
  if (ob.minimize) {
    if (auto smallest = minimal_counterexample(ob, remaining_ms(deadline))) {
      model = *smallest;
      note = " [smallest counterexample]";
    } else {
      note = " [not minimized: optimizer timed out]";
    }
  }
  return {Outcome::refuted, prefixed(ob, ob.explain ? ob.explain(model) + note : model.to_string()), 0, {}};
}

}  // namespace

LemmaResult discharge(const std::vector<Obligation>& obligations, unsigned timeout_ms) {
  auto start = Clock::now();
  auto deadline = start + std::chrono::milliseconds(timeout_ms);
  LemmaResult result{Outcome::proved, "", 0, {}};
  try {
    std::vector<std::pair<std::string, double>> parts;
    SatisfiableCache satisfiable;
    for (const Obligation& ob : obligations) {
      auto part_start = Clock::now();
      result = discharge_one(ob, deadline, satisfiable);
      parts.emplace_back(ob.what, std::chrono::duration<double>(Clock::now() - part_start).count());
      if (result.outcome != Outcome::proved) break;
    }
    result.parts = std::move(parts);
  } catch (const z3::exception& e) {
    result = {Outcome::unknown, std::string("z3 error: ") + e.msg(), 0, {}};
  }
  result.seconds = std::chrono::duration<double>(Clock::now() - start).count();
  return result;
}

}  // namespace mv::proofs
