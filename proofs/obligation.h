// A proof obligation and how it is discharged: three outcomes, never vacuous.
//
// An obligation is (assumptions, claim). discharge() first checks that the
// assumptions are satisfiable (unsat would make any claim "proved": that is
// reported as `vacuous`, a failure), then checks assumptions && !claim:
// unsat -> proved; sat -> refuted, with the model printed in kernel terms by
// the obligation's `explain`; unknown -> unknown with Z3's reason_unknown().
//
// What limits a solver is a deterministic resource budget (Z3's `rlimit`,
// counted in Z3's own work units), not the clock: the same row comes out the
// same on a quiet and on a loaded machine. The wall-clock timeout stays only
// as a backstop against a hang.
#pragma once

#include <z3++.h>

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "proofs/z3_domain.h"

namespace mv::proofs {

enum class Outcome { proved, refuted, vacuous, unknown };
std::string_view outcome_name(Outcome outcome);

// Z3 resource units one row (all its obligations) may consume. Calibrated
// with `memcg-verify prove --json` (each row's "rlimit"; Z3 4.8.12): the
// largest row, objcg_byte_invariant_inductive at LP64 4K, consumes 14.7M
// units, all 90 rows 171M; the largest broken variant of the teeth tests
// (obj_stock_comment_bound with the remainder dropped) 20.3M. The budget is
// ~4x the largest row: room for Z3's small run-to-run differences (a thread's
// context is shared by the rows it decides) and for a proof to grow a little,
// while one that blows up still comes out `unknown`, whatever the load.
inline constexpr std::uint64_t kDefaultRlimit = 60000000;
// Wall-clock backstop per row, in milliseconds: only against a hang. Generous
// so that load never decides an outcome (the slowest row needs ~10 s alone).
inline constexpr unsigned kDefaultTimeoutMs = 300000;

struct Budget {
  std::uint64_t rlimit = kDefaultRlimit;  // deterministic: decides `unknown`
  unsigned timeout_ms = kDefaultTimeoutMs;  // backstop against a hang
};

struct LemmaResult {
  Outcome outcome = Outcome::unknown;
  std::string detail;  // counterexample in kernel terms, or why undecided / vacuous
  double seconds = 0;
  std::uint64_t rlimit = 0;  // Z3 resource units consumed
  struct Part {
    std::string what;
    double seconds = 0;
    std::uint64_t rlimit = 0;
  };
  // Each obligation discharged, in order (the parts of the lemma).
  std::vector<Part> parts;
};

// How Z3 attacks an obligation. QF_BV bit-blasts as is. Cofactor first
// splits every term-level ite (a kernel branch merged into a value) into its
// cases and normalizes sums (som), so linear identities over whole states
// cancel at the word level instead of in the SAT solver, which cannot do
// that algebra on wide adders.
enum class Tactic { qf_bv, cofactor };

struct Obligation {
  std::string what;     // one line: which part of the lemma (e.g. "ncpus=3")
  z3::expr assumptions;  // bounds and preconditions; must be satisfiable
  z3::expr claim;        // must hold whenever the assumptions do
  // Prints a counterexample (a model of assumptions && !claim) in kernel terms.
  std::function<std::string(const z3::model&)> explain;
  // Threshold search: when refuted, report the counterexample that minimizes
  // this (unsigned) term instead of the first one found.
  std::optional<z3::expr> minimize;
  Tactic tactic = Tactic::qf_bv;
};

// Discharges the obligations in order, sharing one budget; the first outcome
// other than `proved` is the result.
LemmaResult discharge(const std::vector<Obligation>& obligations, Budget budget);

// Ghost arithmetic for claims: wide enough that nothing a claim computes from
// kernel words (at most 64-bit values times a page size, plus sums) can wrap.
inline constexpr unsigned kGhostBits = 96;

template <class Word>
z3::expr wide(const Word& w) {
  return z3::zext(w.expr(), kGhostBits - Word::bits);
}
inline z3::expr wide_lit(std::uint64_t v) { return z3_context().bv_val(v, kGhostBits); }
inline z3::expr wide_pow2(unsigned k) { return z3::shl(wide_lit(1), wide_lit(k)); }
inline z3::expr wide_ite(const Z3Bool& c, const z3::expr& a, const z3::expr& b) {
  return z3::ite(c.expr(), a, b);
}
inline z3::expr all_of(const std::vector<z3::expr>& parts) {
  z3::expr acc = z3_context().bool_val(true);
  for (const auto& p : parts) acc = acc && p;
  return acc;
}

// Reading a model: values as decimal strings (ghosts may exceed 64 bits).
std::string model_value(const z3::model& model, const z3::expr& e);
template <class Word>
std::string model_value(const z3::model& model, const Word& w) {
  return model_value(model, w.expr());
}
bool model_true(const z3::model& model, const z3::expr& e);
inline bool model_true(const z3::model& model, const Z3Bool& b) { return model_true(model, b.expr()); }

}  // namespace mv::proofs
