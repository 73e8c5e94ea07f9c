#include "proofs/lemma.h"

#include <algorithm>
#include <atomic>
#include <mutex>
#include <thread>

namespace mv::proofs {

const std::vector<Lemma>& lemma_registry() {
  // Explicit calls, not static registration objects: the proofs library is
  // static, and the linker would drop a lemma file nobody references.
  static const std::vector<Lemma> registry = [] {
    std::vector<Lemma> all;
    register_obj_stock_lemmas(all);
    register_page_stock_lemmas(all);
    register_page_counter_lemmas(all);
    register_objcg_lemmas(all);
    register_kmem_size_lemmas(all);
    return all;
  }();
  return registry;
}

const Lemma* find_lemma(std::string_view name) {
  for (const Lemma& lemma : lemma_registry())
    if (lemma.name == name) return &lemma;
  return nullptr;
}

std::map<std::string, std::vector<std::string>, std::less<>> lemmas_by_invariant() {
  std::map<std::string, std::vector<std::string>, std::less<>> by_invariant;
  for (const Lemma& lemma : lemma_registry())
    for (const std::string& id : lemma.invariants) by_invariant[id].push_back(lemma.name);
  return by_invariant;
}

std::vector<LemmaRow> run_lemmas(std::string_view only, Budget budget, unsigned jobs,
                                 const std::function<void(const LemmaRow&)>& on_row) {
  std::vector<LemmaRow> rows;
  for (const Lemma& lemma : lemma_registry()) {
    if (!only.empty() && lemma.name != only) continue;
    for (unsigned long_bits : lemma.long_bits) {
      for (std::uint64_t page_size : kProofPageSizes) {
        LemmaRow row;
        row.lemma = &lemma;
        row.config = LemmaConfig{long_bits, arith::PageGeometry::of(page_size), budget};
        row.expected = lemma.expected(long_bits);
        rows.push_back(std::move(row));
      }
    }
  }
  std::atomic<std::size_t> next{0};
  std::mutex report;
  std::vector<bool> decided(rows.size(), false);
  std::size_t reported = 0;  // rows [0, reported) went to on_row, in order
  auto worker = [&] {
    for (std::size_t i = next++; i < rows.size(); i = next++) {
      LemmaResult result = rows[i].lemma->run(rows[i].config);
      std::lock_guard<std::mutex> lock(report);
      rows[i].result = std::move(result);
      decided[i] = true;
      for (; reported < rows.size() && decided[reported]; ++reported)
        if (on_row) on_row(rows[reported]);
    }
  };
  std::vector<std::thread> threads;
  for (unsigned t = 1; t < std::max(1u, jobs); ++t) threads.emplace_back(worker);
  worker();
  for (auto& t : threads) t.join();
  return rows;
}

unsigned default_jobs() { return std::clamp(std::thread::hardware_concurrency(), 1u, 2u); }

int exit_code(const std::vector<LemmaRow>& rows) {
  bool wrong = std::any_of(rows.begin(), rows.end(), [](const LemmaRow& r) {
    return r.result.outcome != Outcome::unknown && !r.as_expected();
  });
  if (wrong) return 1;
  bool undecided = std::any_of(rows.begin(), rows.end(),
                               [](const LemmaRow& r) { return r.result.outcome == Outcome::unknown; });
  return undecided ? 3 : 0;
}

}  // namespace mv::proofs
