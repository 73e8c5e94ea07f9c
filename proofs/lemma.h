// The lemma registry: every Z3 lemma about the charge/uncharge arithmetic,
// with the invariants it supports, its bounds, the configurations where it is
// meaningful, and its expected outcome. `memcg-verify prove` runs it; the
// generated invariant docs read lemmas_by_invariant().
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "arith/domain.h"
#include "proofs/obligation.h"

namespace mv::proofs {

// PAGE_SIZE configurations every lemma runs at.
inline constexpr std::uint64_t kProofPageSizes[] = {4096, 16384, 65536};

struct LemmaConfig {
  // Width of unsigned long / size_t / atomic_long_t: 64 (LP64) or 32 (ILP32).
  unsigned long_bits = 64;
  arith::PageGeometry page = arith::PageGeometry::of(4096);
  Budget budget;  // Z3 resource units and wall backstop for the whole row
};

struct Lemma {
  std::string name;
  std::string stem;                     // proofs/<stem>.cc
  std::vector<std::string> invariants;  // ids from spec/invariants.h (docs/DESIGN.md)
  std::string statement;                // what is proved, in kernel terms
  std::string bounds;                   // widths, sizes, CPUs, history length
  std::vector<unsigned> long_bits;      // widths where the lemma is meaningful
  // `proved`, or `refuted` where the lemma documents a limit of the kernel's
  // types (the counterexample is the finding).
  std::function<Outcome(unsigned long_bits)> expected;
  std::function<LemmaResult(const LemmaConfig&)> run;
};

const std::vector<Lemma>& lemma_registry();
const Lemma* find_lemma(std::string_view name);

// Invariant id -> names of the lemmas supporting it (for docs/INVARIANTS.md).
std::map<std::string, std::vector<std::string>, std::less<>> lemmas_by_invariant();

// One lemma at one configuration.
struct LemmaRow {
  const Lemma* lemma = nullptr;
  LemmaConfig config;
  Outcome expected = Outcome::proved;
  LemmaResult result;
  bool as_expected() const { return result.outcome == expected; }
};

// Every configuration of the lemmas selected (all when `only` is empty),
// returned in registry order. `jobs` worker threads decide rows in parallel
// (each thread has its own Z3 context); `on_row` sees each row as soon as it
// is decided, from one thread at a time.
std::vector<LemmaRow> run_lemmas(std::string_view only, Budget budget, unsigned jobs = 1,
                                 const std::function<void(const LemmaRow&)>& on_row = {});

// Worker threads for `prove` by default: both cores of the reference machine.
unsigned default_jobs();

// docs/DESIGN.md exit codes: 0 all as expected; 1 a lemma refuted, vacuous, or
// proved where a refutation was expected; 3 otherwise undecided.
int exit_code(const std::vector<LemmaRow>& rows);

// Per-stem registration (each proofs/<stem>.cc), called by lemma_registry().
void register_obj_stock_lemmas(std::vector<Lemma>& out);
void register_page_stock_lemmas(std::vector<Lemma>& out);
void register_page_counter_lemmas(std::vector<Lemma>& out);
void register_objcg_lemmas(std::vector<Lemma>& out);
void register_kmem_size_lemmas(std::vector<Lemma>& out);

// Runs a lemma body at the configured width: body.template operator()<D>()
// returns the obligations, built over Z3Domain or Z3Domain32.
template <class Body>
LemmaResult run_at_width(const LemmaConfig& config, Body&& body) {
  std::vector<Obligation> obligations = config.long_bits == 32
                                            ? body.template operator()<Z3Domain32>()
                                            : body.template operator()<Z3Domain>();
  return discharge(obligations, config.budget);
}

// Expected outcomes.
inline Outcome always_proved(unsigned) { return Outcome::proved; }
inline Outcome refuted_on_lp64(unsigned long_bits) {
  return long_bits == 64 ? Outcome::refuted : Outcome::proved;
}

}  // namespace mv::proofs
