// Lemmas about the byte-stock arithmetic of obj_cgroup charging (arith/obj_stock.h):
// obj_cgroup_charge's page/byte split, consume_obj_stock, refill_obj_stock,
// drain_obj_stock. Kernel: mm/memcontrol.c v6.6.
//
// Each lemma is a template over the Arith policy (proofs/kernel_arith.h) so a
// teeth test can swap in a broken function; `prove` runs KernelArith.
#pragma once

#include <fmt/core.h>

#include <cstdint>
#include <string>
#include <vector>

#include "proofs/kernel_arith.h"
#include "proofs/lemma.h"

namespace mv::proofs {

namespace obj_stock_detail {

inline std::uint64_t page_size(const LemmaConfig& c) { return c.page.size_bytes; }

// obj_cgroup_charge's miss path: the split of `size` and the tail given back.
template <class D, class Arith>
struct ChargeSplitTerms {
  typename D::u64 size;
  arith::ObjChargeSplit<D> split;
  typename D::boolean has_tail;  // `if (nr_bytes)`: a refill follows
  typename D::u32 tail;          // PAGE_SIZE - nr_bytes, refilled to the byte stock
  z3::expr charged_bytes;        // nr_pages * PAGE_SIZE
  z3::expr returned_bytes;       // the tail when there is one

  explicit ChargeSplitTerms(const LemmaConfig& c)
      : size(D::var64("size")),
        split(Arith::template obj_charge_split<D>(size, c.page)),
        has_tail(split.nr_bytes != D::lit32(0)),
        tail(Arith::template charge_tail_bytes<D>(split.nr_bytes, c.page)),
        charged_bytes(wide_lit(page_size(c)) * wide(split.nr_pages)),
        returned_bytes(wide_ite(has_tail, wide(tail), wide_lit(0))) {}

  // What the pages charged minus the tail returned account for.
  z3::expr exact() const { return charged_bytes - returned_bytes == wide(size); }
  z3::expr well_formed(const LemmaConfig& c) const {
    auto p = wide_lit(page_size(c));
    return z3::ult(wide(split.nr_bytes), p) &&
           z3::implies(has_tail.expr(), z3::uge(wide(tail), wide_lit(1)) && z3::ult(wide(tail), p));
  }
  std::string explain(const z3::model& m, const LemmaConfig& c) const {
    std::uint64_t s = m.eval(size.expr(), true).get_numeral_uint64();
    std::uint64_t p = page_size(c);
    return fmt::format(
        "size={} bytes (= {} * PAGE_SIZE + {}): obj_cgroup_charge computes nr_pages={} nr_bytes={} "
        "(unsigned int), charges {} pages = {} bytes and refills {} tail bytes: {} bytes accounted "
        "for a {}-byte object",
        s, s / p, s % p, model_value(m, split.nr_pages), model_value(m, split.nr_bytes),
        model_value(m, split.nr_pages), model_value(m, charged_bytes),
        model_true(m, has_tail) ? model_value(m, tail) : "0",
        model_true(m, z3::uge(charged_bytes, returned_bytes))
            ? model_value(m, charged_bytes - returned_bytes)
            : "-" + model_value(m, returned_bytes - charged_bytes),
        s);
  }
};

}  // namespace obj_stock_detail

// obj_cgroup_charge (v6.6): pages charged * PAGE_SIZE minus the refilled tail is
// exactly the size, for every size whose page count fits the kernel's
// `unsigned int nr_pages`: size <= (2^32 - 1) * PAGE_SIZE.
template <class Arith = KernelArith>
LemmaResult obj_charge_split_exact(const LemmaConfig& c) {
  return run_at_width(c, [&]<class D>() {
    obj_stock_detail::ChargeSplitTerms<D, Arith> t(c);
    auto limit = wide_lit(0xffffffffull) * wide_lit(c.page.size_bytes);
    return std::vector<Obligation>{{"", z3::ule(wide(t.size), limit), t.exact() && t.well_formed(c),
                                    [t, c](const z3::model& m) { return t.explain(m, c); },
                                    std::nullopt}};
  });
}

// The same claim for every size_t. Expected refuted on LP64: the smallest
// counterexample is the threshold where `unsigned int nr_pages` stops being
// exact ((2^32 - 1) * PAGE_SIZE + 1: nr_pages wraps to 0). Proved on ILP32.
template <class Arith = KernelArith>
LemmaResult obj_charge_split_any_size(const LemmaConfig& c) {
  return run_at_width(c, [&]<class D>() {
    obj_stock_detail::ChargeSplitTerms<D, Arith> t(c);
    return std::vector<Obligation>{{"", z3_context().bool_val(true), t.exact() && t.well_formed(c),
                                    [t, c](const z3::model& m) { return t.explain(m, c); },
                                    t.size.expr()}};
  });
}

// obj_cgroup_charge (v6.6) as a whole: a stock hit consumes
// `(unsigned int)size` bytes (consume_obj_stock's parameter), a miss charges
// the split. Claim: the bytes taken from the pre-charged pool plus the pages
// charged, minus the tail returned, equal the size. Expected refuted on LP64
// with the smallest counterexample size = 2^32: the truncated request is 0
// bytes, which any stock caching the objcg "covers".
template <class Arith = KernelArith>
LemmaResult obj_cgroup_charge_exact(const LemmaConfig& c) {
  return run_at_width(c, [&]<class D>() {
    obj_stock_detail::ChargeSplitTerms<D, Arith> t(c);
    auto stock = D::var32("stock_nr_bytes");
    auto cached = D::var_bool("stock_caches_objcg");
    auto request = Arith::template consume_request_bytes<D>(t.size);
    auto hit = cached && Arith::template obj_stock_covers<D>(stock, request);
    auto after_hit = Arith::template obj_stock_consume<D>(stock, request);
    z3::expr accounted =
        wide_ite(hit, wide(stock) - wide(after_hit), t.charged_bytes - t.returned_bytes);
    auto explain = [=](const z3::model& m) {
      if (!model_true(m, hit)) return "stock miss: " + t.explain(m, c);
      return fmt::format(
          "size={} bytes: consume_obj_stock(objcg, nr_bytes={}) (size_t -> unsigned int) hits a stock "
          "caching the objcg with stock->nr_bytes={}: the charge takes {} bytes for a {}-byte object",
          model_value(m, t.size), model_value(m, request), model_value(m, stock),
          model_value(m, wide(stock) - wide(after_hit)), model_value(m, t.size));
    };
    return std::vector<Obligation>{{"", z3_context().bool_val(true), accounted == wide(t.size), explain,
                                    t.size.expr()}};
  });
}

// consume_obj_stock (v6.6): a hit never takes the stock below zero and takes
// exactly the request.
template <class Arith = KernelArith>
LemmaResult obj_stock_consume_no_underflow(const LemmaConfig& c) {
  return run_at_width(c, [&]<class D>() {
    auto stock = D::var32("stock_nr_bytes");
    auto request = D::var32("nr_bytes");
    auto hit = Arith::template obj_stock_covers<D>(stock, request);
    auto after = Arith::template obj_stock_consume<D>(stock, request);
    auto explain = [=](const z3::model& m) {
      return fmt::format("stock->nr_bytes={} nr_bytes={}: hit={} leaves stock->nr_bytes={}",
                         model_value(m, stock), model_value(m, request), model_value(m, hit),
                         model_value(m, after));
    };
    return std::vector<Obligation>{{"", hit.expr(),
                                    z3::ule(wide(after), wide(stock)) &&
                                        wide(after) + wide(request) == wide(stock),
                                    explain, std::nullopt}};
  });
}

// refill_obj_stock (v6.6) once the objcg is cached: stock_before + added ==
// stock_after + PAGE_SIZE * nr_pages; with allow_uncharge the stock ends <=
// PAGE_SIZE; without it nothing is uncharged; and the threshold is strict:
// a stock of exactly PAGE_SIZE stays whole.
template <class Arith = KernelArith>
LemmaResult obj_stock_refill_conserves(const LemmaConfig& c) {
  return run_at_width(c, [&]<class D>() {
    auto stock = D::var32("stock_nr_bytes");
    auto added = D::var32("nr_bytes");
    auto allow = D::var_bool("allow_uncharge");
    auto r = Arith::template obj_stock_refill<D>(stock, added, allow, c.page);
    auto p = wide_lit(c.page.size_bytes);
    auto total = wide(stock) + wide(added);
    // stock->nr_bytes is unsigned int: the sum must not wrap (the stock bound
    // lemmas show it stays far below 2^32).
    auto assumptions = z3::ult(total, wide_lit(std::uint64_t{1} << 32));
    auto claim = all_of({
        total == wide(r.stock_nr_bytes) + p * wide(r.nr_pages),
        z3::implies(allow.expr(), z3::ule(wide(r.stock_nr_bytes), p)),
        z3::implies(!allow.expr(), wide(r.nr_pages) == wide_lit(0)),
        z3::implies(z3::ule(total, p), wide(r.nr_pages) == wide_lit(0) && wide(r.stock_nr_bytes) == total),
    });
    auto explain = [=](const z3::model& m) {
      return fmt::format(
          "refill_obj_stock: stock->nr_bytes={} + nr_bytes={} (allow_uncharge={}) leaves "
          "stock->nr_bytes={} and uncharges nr_pages={}",
          model_value(m, stock), model_value(m, added), model_value(m, allow),
          model_value(m, r.stock_nr_bytes), model_value(m, r.nr_pages));
    };
    return std::vector<Obligation>{{"", assumptions, claim, explain, std::nullopt}};
  });
}

// obj_cgroup_charge's refill (v6.6): after a stock miss (the objcg cached,
// stock->nr_bytes < the request), refill_obj_stock(objcg, PAGE_SIZE - nr_bytes,
// false) leaves at most size + PAGE_SIZE - 2 bytes (the kernel comment's bound)
// and uncharges nothing.
template <class Arith = KernelArith>
LemmaResult obj_stock_charge_refill_bound(const LemmaConfig& c) {
  return run_at_width(c, [&]<class D>() {
    obj_stock_detail::ChargeSplitTerms<D, Arith> t(c);
    auto stock = D::var32("stock_nr_bytes");
    auto request = Arith::template consume_request_bytes<D>(t.size);
    auto r = Arith::template obj_stock_refill<D>(stock, t.tail, D::lit_bool(false), c.page);
    auto p = wide_lit(c.page.size_bytes);
    auto assumptions = all_of({
        z3::uge(wide(t.size), wide_lit(1)),
        z3::ule(wide(t.size), wide_lit((std::uint64_t{1} << 32) - c.page.size_bytes)),
        t.has_tail.expr(),                      // the refill happens
        z3::ult(wide(stock), wide(request)),  // consume_obj_stock missed
    });
    auto claim = all_of({
        z3::ule(wide(r.stock_nr_bytes), wide(t.size) + p - wide_lit(2)),
        wide(r.nr_pages) == wide_lit(0),
        wide(r.stock_nr_bytes) == wide(stock) + wide(t.tail),
    });
    auto explain = [=](const z3::model& m) {
      return fmt::format(
          "size={}: stock->nr_bytes={} missed, nr_bytes={}, refill of {} tail bytes leaves "
          "stock->nr_bytes={} (bound size + PAGE_SIZE - 2 = {}), uncharges {} pages",
          model_value(m, t.size), model_value(m, stock), model_value(m, t.split.nr_bytes),
          model_value(m, t.tail), model_value(m, r.stock_nr_bytes),
          model_value(m, wide(t.size) + p - wide_lit(2)), model_value(m, r.nr_pages));
    };
    return std::vector<Obligation>{{"", assumptions, claim, explain, std::nullopt}};
  });
}

// drain_obj_stock (v6.6): the split into whole pages (to __refill_stock) and a
// sub-page remainder (atomic_add to objcg->nr_charged_bytes) loses no byte.
template <class Arith = KernelArith>
LemmaResult obj_stock_drain_conserves(const LemmaConfig& c) {
  return run_at_width(c, [&]<class D>() {
    auto stock = D::var32("stock_nr_bytes");
    auto charged = D::var32("nr_charged_bytes");
    auto d = Arith::template obj_stock_drain_split<D>(stock, c.page);
    auto after = Arith::template charged_bytes_add<D>(charged, d.nr_bytes);
    auto p = wide_lit(c.page.size_bytes);
    // atomic_t nr_charged_bytes must not wrap (objcg_invariant_inductive bounds
    // it by ncpus * (PAGE_SIZE - 1)).
    auto assumptions = z3::ule(wide(charged), wide_lit((std::uint64_t{1} << 32) - c.page.size_bytes));
    auto claim = all_of({
        wide(stock) == p * wide(d.nr_pages) + wide(d.nr_bytes),
        z3::ult(wide(d.nr_bytes), p),
        wide(after) == wide(charged) + wide(d.nr_bytes),
    });
    auto explain = [=](const z3::model& m) {
      return fmt::format(
          "drain_obj_stock: stock->nr_bytes={} splits into nr_pages={} + nr_bytes={}; "
          "nr_charged_bytes {} -> {}",
          model_value(m, stock), model_value(m, d.nr_pages), model_value(m, d.nr_bytes),
          model_value(m, charged), model_value(m, after));
    };
    return std::vector<Obligation>{{"", assumptions, claim, explain, std::nullopt}};
  });
}

}  // namespace mv::proofs
