// Lemmas about the page-stock and batch arithmetic (arith/page_stock.h):
// consume_stock, __refill_stock, try_charge_memcg's batch and restock.
// Kernel: mm/memcontrol.c v6.6, MEMCG_CHARGE_BATCH = 64.
#pragma once

#include <fmt/core.h>

#include <cstdint>
#include <vector>

#include "proofs/kernel_arith.h"
#include "proofs/lemma.h"
#include "proofs/page_counter_lemmas.h"
#include "proofs/stock_model.h"

namespace mv::proofs {

// __refill_stock (v6.6): from a stock within the batch, adding nr_pages either
// keeps the sum (<= batch: a full batch stays) or drains all of it
// (> batch); nothing is lost (before + added == after + drained) and the stock
// ends within the batch.
template <class Arith = KernelArith>
LemmaResult page_stock_refill_bound(const LemmaConfig& c) {
  return run_at_width(c, [&]<class D>() {
    auto stock = D::var32("stock_nr_pages");
    auto added = D::var32("nr_pages");
    auto r = Arith::template page_stock_refill<D>(stock, added, kChargeBatchPages);
    auto batch = wide_lit(kChargeBatchPages);
    auto total = wide(stock) + wide(added);
    auto after = wide_ite(r.drain, wide_lit(0), wide(r.stock_nr_pages));
    auto drained = wide_ite(r.drain, wide(r.stock_nr_pages), wide_lit(0));
    auto assumptions = z3::ule(wide(stock), batch) && z3::ult(total, wide_lit(std::uint64_t{1} << 32));
    auto claim = all_of({
        total == after + drained,
        z3::ule(after, batch),
        r.drain.expr() == z3::ugt(total, batch),
    });
    auto explain = [=](const z3::model& m) {
      return fmt::format("__refill_stock: stock->nr_pages={} + nr_pages={}: drain={} leaves {} pages, drains {}",
                         model_value(m, stock), model_value(m, added), model_value(m, r.drain),
                         model_value(m, after), model_value(m, drained));
    };
    return std::vector<Obligation>{{"", assumptions, claim, explain, std::nullopt}};
  });
}

// try_charge_memcg (v6.6): batch = max(MEMCG_CHARGE_BATCH, nr_pages) covers the
// request, the restock is batch - nr_pages (< MEMCG_CHARGE_BATCH, and 0 for a
// request above the batch or after the `batch = nr_pages` retry), and
// consume_stock hits only within the batch, taking exactly nr_pages.
template <class Arith = KernelArith>
LemmaResult charge_batch_restock(const LemmaConfig& c) {
  return run_at_width(c, [&]<class D>() {
    auto nr_pages = D::var32("nr_pages");
    auto stock = D::var32("stock_nr_pages");
    auto batch = Arith::template charge_batch<D>(nr_pages, kChargeBatchPages);
    auto restock = Arith::template restock_pages<D>(batch, nr_pages);
    auto retry_restock = Arith::template restock_pages<D>(nr_pages, nr_pages);
    auto hit = Arith::template page_stock_covers<D>(stock, nr_pages, kChargeBatchPages);
    auto after_hit = Arith::template page_stock_consume<D>(stock, nr_pages);
    auto b = wide_lit(kChargeBatchPages);
    auto assumptions = z3::uge(wide(nr_pages), wide_lit(1)) && z3::ule(wide(stock), b);
    auto claim = all_of({
        z3::uge(wide(batch), wide(nr_pages)),
        z3::uge(wide(batch), b),
        wide(restock) + wide(nr_pages) == wide(batch),
        z3::ult(wide(restock), b),
        z3::implies(z3::ugt(wide(nr_pages), b), wide(restock) == wide_lit(0)),
        wide(retry_restock) == wide_lit(0),
        z3::implies(hit.expr(), z3::ule(wide(nr_pages), b) && wide(after_hit) + wide(nr_pages) == wide(stock)),
        z3::implies(z3::ule(wide(nr_pages), b) && z3::uge(wide(stock), wide(nr_pages)), hit.expr()),
    });
    auto explain = [=](const z3::model& m) {
      return fmt::format(
          "try_charge_memcg(nr_pages={}): batch={} restock={} (retry restock {}); consume_stock with "
          "stock->nr_pages={}: hit={} leaves {}",
          model_value(m, nr_pages), model_value(m, batch), model_value(m, restock),
          model_value(m, retry_restock), model_value(m, stock), model_value(m, hit), model_value(m, after_hit));
    };
    return std::vector<Obligation>{{"", assumptions, claim, explain, std::nullopt}};
  });
}

// The page side of the stocks: one operation on any CPU (CPU 0, the others
// as an aggregate of at most (ncpus - 1) * MEMCG_CHARGE_BATCH stocked pages;
// ncpus symbolic, 1..4) from any state where the memcg's usage is its page
// stocks plus the objcg's charged pages and every page stock is within the
// batch: obj_cgroup_charge_pages (try_charge_memcg: consume_stock, the batch
// charge and done_restock, the exact retry, ENOMEM, a forced charge),
// obj_cgroup_uncharge_pages / drain_obj_stock's __refill_stock, and
// drain_stock, for any page count up to the byte side's kMaxPagesPerCall.
// Each keeps the identity and the bound and never underflows the counter.
template <class Arith = KernelArith>
LemmaResult memcg_page_invariant_inductive(const LemmaConfig& c) {
  return run_at_width(c, [&]<class D>() {
    using namespace stock_model;
    auto& ctx = z3_context();
    std::vector<Obligation> obligations;
    Kernel<D, Arith> kernel{c.page, true};
    enum { kCharge, kUncharge, kDrain };
    const char* names[] = {"obj_cgroup_charge_pages", "obj_cgroup_uncharge_pages", "drain_stock"};
    for (int op : {kCharge, kUncharge, kDrain}) {
      auto prefix = fmt::format("pg{}_", op);
      Local<D> l{{D::lit_bool(false), D::lit32(0), D::var_bool(prefix + "page_cached"), D::var32(prefix + "page_nr_pages")},
                 initial_shared<D>()};
      z3::expr ncpus = ctx.bv_const((prefix + "ncpus").c_str(), kGhostBits);
      z3::expr other_pages = ctx.bv_const((prefix + "other_cpus_stock_pages").c_str(), kGhostBits);
      l.shared.usage = D::var64(prefix + "usage");
      l.shared.charged_pages = wide(l.shared.usage) - wide(l.cpu.page_nr_pages) - other_pages;
      auto nr_pages = D::var32(prefix + "nr_pages");
      auto mode = ctx.bv_const((prefix + "charge").c_str(), 2);
      auto batch = wide_lit(kChargeBatchPages);
      auto page_bounds = [&](const CpuStock<D>& cpu) {
        return z3::implies(!cpu.page_cached.expr(), wide(cpu.page_nr_pages) == wide_lit(0)) &&
               z3::ule(wide(cpu.page_nr_pages), batch);
      };
      auto assumptions = all_of({
          z3::uge(ncpus, wide_lit(1)), z3::ule(ncpus, wide_lit(kMaxCpus)),
          z3::ule(other_pages, cpus_times(ncpus - wide_lit(1), batch)),
          z3::ule(wide(l.cpu.page_nr_pages) + other_pages, wide(l.shared.usage)),
          z3::ule(wide(l.shared.usage), wide_lit(page_counter_max_pages(c))),
          page_bounds(l.cpu),
          z3::uge(wide(nr_pages), wide_lit(1)), z3::ule(wide(nr_pages), wide_lit(kMaxPagesPerCall)),
      });
      Local<D> post = l;
      if (op == kCharge) post = kernel.obj_cgroup_charge_pages(l, nr_pages, mode).local;
      if (op == kUncharge) {
        assumptions = assumptions && z3::ule(wide(nr_pages), l.shared.charged_pages);
        post = kernel.obj_cgroup_uncharge_pages(l, nr_pages);
      }
      if (op == kDrain) post = kernel.drain_stock(l);
      auto claim = wide(post.shared.usage) == wide(post.cpu.page_nr_pages) + other_pages + post.shared.charged_pages &&
                   page_bounds(post.cpu) && !post.shared.warned;
      auto explain = [=](const z3::model& m) {
        return fmt::format("{}(nr_pages={}, {}) on cpu0 from usage={} pages, cpu0 page stock {} (cached {}), other "
                           "CPUs {} pages, objcg {} pages: usage={} cpu0 page stock {} objcg {} pages, WARN {}",
                           names[op], model_value(m, nr_pages),
                           kChargeModeNames[m.eval(mode, true).get_numeral_uint64()], model_value(m, l.shared.usage),
                           model_value(m, l.cpu.page_nr_pages), model_value(m, l.cpu.page_cached),
                           model_value(m, other_pages), model_value(m, l.shared.charged_pages),
                           model_value(m, post.shared.usage), model_value(m, post.cpu.page_nr_pages),
                           model_value(m, post.shared.charged_pages), model_value(m, post.shared.warned));
      };
      obligations.push_back({names[op], assumptions, claim, explain, std::nullopt, Tactic::cofactor});
    }
    return obligations;
  });
}

}  // namespace mv::proofs
