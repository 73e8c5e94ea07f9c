// A symbolic model of the per-CPU charge stocks (struct memcg_stock_pcp, v6.6)
// of one memcg with one objcg, built by composing the arith templates exactly
// as the kernel functions compose them. The lemmas in objcg_lemmas.h and
// page_stock_lemmas.h run it one step at a time (induction) and over
// symbolic histories.
//
// Modeled (mm/memcontrol.c v6.6): obj_cgroup_charge (consume_obj_stock, the
// split, obj_cgroup_charge_pages -> try_charge_memcg with consume_stock, the
// batch and done_restock), refill_obj_stock (with the replace path's xchg of
// nr_charged_bytes), mod_objcg_state's stock replacement, drain_obj_stock,
// obj_cgroup_uncharge_pages, __refill_stock, drain_stock, drain_local_stock.
// Other objcgs and memcgs appear only through what they do to ours: taking a
// CPU's byte stock (drain_obj_stock), taking its page stock (drain_stock).
// The memcg's page_counter is one level and limits are a nondeterministic
// charge outcome (page_counter_lemmas prove the hierarchy and limits).
#pragma once

#include <fmt/core.h>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "proofs/kernel_arith.h"
#include "proofs/lemma.h"

namespace mv::proofs::stock_model {

inline constexpr unsigned kMaxCpus = 4;        // N: CPUs of the symbolic states
inline constexpr unsigned kHistoryLength = 6;  // operations per symbolic history
// Largest bytes one obj_cgroup_charge/uncharge moves (16 MiB). Each lemma has
// a symbolic max_size_bytes below it; the stock bounds are stated with it.
inline constexpr std::uint64_t kObjSizeMaxBytes = std::uint64_t{1} << 24;
// The interface between the byte side and the page side: every page count the
// byte side passes to obj_cgroup_charge_pages / obj_cgroup_uncharge_pages /
// __refill_stock is at most this (the byte-side lemmas prove it; the
// page-side lemmas assume it).
inline constexpr std::uint32_t kMaxPagesPerCall = 1u << 16;

enum OpKind : unsigned {
  kAllocSlab,    // memcg_slab_post_alloc_hook: obj_cgroup_charge + mod_objcg_state
  kAllocPercpu,  // pcpu_alloc: obj_cgroup_charge
  kFreeObj,      // slab/percpu free: obj_cgroup_uncharge = refill_obj_stock(.., true)
  kAllocPage,    // __memcg_kmem_charge_page, order 0
  kFreePage,     // __memcg_kmem_uncharge_page, order 0
  kDrainObj,     // another objcg takes this CPU's byte stock (drain_obj_stock)
  kDrainPage,    // another memcg takes this CPU's page stock (drain_stock)
  kDrainAll,     // drain_all_stock + quiesce: drain_local_stock on every CPU
  kNumOpKinds
};
inline constexpr const char* kOpNames[] = {"alloc slab", "alloc percpu", "free object", "alloc kmem page",
                                           "free kmem page", "drain_obj_stock", "drain_stock",
                                           "drain_all_stock"};

// try_charge_memcg's outcome on a page-stock miss, chosen nondeterministically.
enum ChargeMode : unsigned {
  kChargeBatch,   // page_counter_try_charge(batch) succeeds -> done_restock
  kChargeExact,   // the batch failed; the retry with `batch = nr_pages` succeeds
  kChargeFails,   // -ENOMEM
  kChargeForced,  // __GFP_NOFAIL: page_counter_charge(nr_pages), no restock
};
inline constexpr const char* kChargeModeNames[] = {"batch charged", "exact charge after retry", "ENOMEM",
                                                   "forced"};

template <class D>
struct CpuStock {
  typename D::boolean obj_cached;   // stock->cached_objcg == objcg
  typename D::u32 obj_nr_bytes;     // stock->nr_bytes (0 while another objcg is cached)
  typename D::boolean page_cached;  // stock->cached == objcg's memcg
  typename D::u32 page_nr_pages;    // stock->nr_pages (0 while another memcg is cached)
};

// State shared by all CPUs, plus ghosts (kGhostBits wide).
template <class D>
struct Shared {
  typename D::u32 nr_charged_bytes;  // objcg->nr_charged_bytes (atomic_t)
  typename D::u64 usage;             // memcg->memory.usage, in pages
  z3::expr live_bytes;               // ghost: bytes of live objects and kmem pages
  z3::expr charged_pages;            // ghost: pages charged through the objcg, not yet uncharged
  z3::expr warned;                   // ghost: page_counter_cancel WARNed (underflow)
  z3::expr pages_bounded;            // ghost: every page count passed on was <= kMaxPagesPerCall
};

template <class D>
struct State {
  std::vector<CpuStock<D>> cpus;
  Shared<D> shared;
};

// What the current CPU sees: its stock and the shared state.
template <class D>
struct Local {
  CpuStock<D> cpu;
  Shared<D> shared;
};

// One operation's symbolic choices.
template <class D>
struct OpChoice {
  z3::expr kind;    // OpKind, 3 bits
  z3::expr cpu;     // 2 bits
  z3::expr charge;  // ChargeMode, 2 bits
  typename D::u64 size_bytes;
};

// ---- merging (ite) over symbolic conditions ----

template <class D>
CpuStock<D> merge(const z3::expr& c, const CpuStock<D>& a, const CpuStock<D>& b) {
  Z3Bool cond(c);
  return {D::select(cond, a.obj_cached, b.obj_cached), D::select(cond, a.obj_nr_bytes, b.obj_nr_bytes),
          D::select(cond, a.page_cached, b.page_cached), D::select(cond, a.page_nr_pages, b.page_nr_pages)};
}
template <class D>
Shared<D> merge(const z3::expr& c, const Shared<D>& a, const Shared<D>& b) {
  Z3Bool cond(c);
  return {D::select(cond, a.nr_charged_bytes, b.nr_charged_bytes), D::select(cond, a.usage, b.usage),
          z3::ite(c, a.live_bytes, b.live_bytes), z3::ite(c, a.charged_pages, b.charged_pages),
          z3::ite(c, a.warned, b.warned), z3::ite(c, a.pages_bounded, b.pages_bounded)};
}
template <class D>
Local<D> merge(const z3::expr& c, const Local<D>& a, const Local<D>& b) {
  return {merge<D>(c, a.cpu, b.cpu), merge<D>(c, a.shared, b.shared)};
}

inline z3::expr cpu_is(const z3::expr& cpu, unsigned c) { return cpu == z3_context().bv_val(c, 2); }
// `cpu < ncpus` for a 2-bit CPU number (ncpus may be 4, which 2 bits cannot hold).
inline z3::expr cpu_exists(const z3::expr& cpu, unsigned ncpus) {
  return z3::ule(cpu, z3_context().bv_val(ncpus - 1, 2));
}

template <class D>
Local<D> pick(const State<D>& s, const z3::expr& cpu) {
  CpuStock<D> chosen = s.cpus[0];
  for (unsigned c = 1; c < s.cpus.size(); ++c) chosen = merge<D>(cpu_is(cpu, c), s.cpus[c], chosen);
  return {chosen, s.shared};
}

template <class D>
State<D> put(const State<D>& s, const z3::expr& cpu, const Local<D>& l) {
  State<D> out = s;
  for (unsigned c = 0; c < s.cpus.size(); ++c) out.cpus[c] = merge<D>(cpu_is(cpu, c), l.cpu, s.cpus[c]);
  out.shared = l.shared;
  return out;
}

// ---- the kernel functions, on the current CPU ----

// `with_page_stock` false gives the byte side alone: obj_cgroup_charge_pages
// succeeds or fails nondeterministically and page counts leave as ghosts, the
// page stock and usage untouched (the page side is proved for any such count).
template <class D, class Arith>
struct Kernel {
  arith::PageGeometry page;
  bool with_page_stock = true;

  Local<D> note_pages(Local<D> l, const typename D::u32& nr_pages) const {
    l.shared.pages_bounded = l.shared.pages_bounded && z3::ule(wide(nr_pages), wide_lit(kMaxPagesPerCall));
    return l;
  }

  // drain_stock (v6.6): uncharge the cached pages from the memcg, uncache.
  Local<D> drain_stock(Local<D> l) const {
    auto has_pages = l.cpu.page_cached && l.cpu.page_nr_pages != D::lit32(0);
    auto cancel = Arith::template level_cancel<D>(l.shared.usage, D::zext(l.cpu.page_nr_pages));
    l.shared.usage = D::select(has_pages, cancel.usage, l.shared.usage);
    l.shared.warned = l.shared.warned || (has_pages && cancel.underflow).expr();
    l.cpu.page_nr_pages = D::lit32(0);
    l.cpu.page_cached = D::lit_bool(false);
    return l;
  }

  // __refill_stock (v6.6); callers only call it with nr_pages != 0.
  Local<D> refill_stock(Local<D> l, const typename D::u32& nr_pages) const {
    // A CPU caching another memcg drains that one (not ours) and caches ours.
    auto ours = D::select(l.cpu.page_cached, l.cpu.page_nr_pages, D::lit32(0));
    auto r = Arith::template page_stock_refill<D>(ours, nr_pages, kChargeBatchPages);
    l.cpu.page_cached = D::lit_bool(true);
    l.cpu.page_nr_pages = r.stock_nr_pages;
    return merge<D>(r.drain.expr(), drain_stock(l), l);
  }

  Local<D> refill_stock_if_any(const Local<D>& l, const typename D::u32& nr_pages) const {
    if (!with_page_stock) return note_pages(l, nr_pages);
    return merge<D>((nr_pages != D::lit32(0)).expr(), refill_stock(l, nr_pages), l);
  }

  // obj_cgroup_uncharge_pages (v6.6): the pages leave the objcg for the page stock.
  Local<D> obj_cgroup_uncharge_pages(Local<D> l, const typename D::u32& nr_pages) const {
    l.shared.charged_pages = l.shared.charged_pages - wide(nr_pages);
    return refill_stock_if_any(l, nr_pages);
  }

  // drain_obj_stock (v6.6) of this objcg's byte stock: whole pages to
  // __refill_stock, the remainder to nr_charged_bytes.
  Local<D> drain_obj_stock(const Local<D>& l) const {
    auto d = Arith::template obj_stock_drain_split<D>(l.cpu.obj_nr_bytes, page);
    Local<D> drained = l;
    drained.shared.charged_pages = drained.shared.charged_pages - wide(d.nr_pages);
    drained = refill_stock_if_any(drained, d.nr_pages);
    drained.shared.nr_charged_bytes = Arith::template charged_bytes_add<D>(drained.shared.nr_charged_bytes, d.nr_bytes);
    drained.cpu.obj_nr_bytes = D::lit32(0);
    drained.cpu.obj_cached = D::lit_bool(false);
    return merge<D>(l.cpu.obj_cached.expr(), drained, l);
  }

  // The replace step of refill_obj_stock / mod_objcg_state (v6.6): the CPU
  // caches another objcg (its drain is not ours); cache this one and take
  // `atomic_xchg(&objcg->nr_charged_bytes, 0)` as the stock.
  Local<D> take_obj_stock(const Local<D>& l) const {
    Local<D> taken = l;
    taken.cpu.obj_cached = D::lit_bool(true);
    taken.cpu.obj_nr_bytes = l.shared.nr_charged_bytes;
    taken.shared.nr_charged_bytes = D::lit32(0);
    return merge<D>(l.cpu.obj_cached.expr(), l, taken);
  }

  // refill_obj_stock (v6.6).
  Local<D> refill_obj_stock(const Local<D>& l, const typename D::u32& nr_bytes,
                            const typename D::boolean& allow_uncharge) const {
    auto allow = allow_uncharge || !l.cpu.obj_cached;  // the replace path forces allow_uncharge
    Local<D> t = take_obj_stock(l);
    auto r = Arith::template obj_stock_refill<D>(t.cpu.obj_nr_bytes, nr_bytes, allow, page);
    t.cpu.obj_nr_bytes = r.stock_nr_bytes;
    return merge<D>((r.nr_pages != D::lit32(0)).expr(), obj_cgroup_uncharge_pages(t, r.nr_pages), t);
  }

  struct Charged {
    z3::expr ok;
    Local<D> local;
  };

  // try_charge_memcg (v6.6) for nr_pages; `mode` is the page counter's answer.
  Charged try_charge_memcg(const Local<D>& l, const typename D::u32& nr_pages, const z3::expr& mode) const {
    auto mode_is = [&](unsigned m) { return mode == z3_context().bv_val(m, 2); };
    if (!with_page_stock) return {!mode_is(kChargeFails), note_pages(l, nr_pages)};
    auto batch = Arith::template charge_batch<D>(nr_pages, kChargeBatchPages);
    auto hit = l.cpu.page_cached && Arith::template page_stock_covers<D>(l.cpu.page_nr_pages, nr_pages, kChargeBatchPages);
    Local<D> consumed = l;
    consumed.cpu.page_nr_pages = Arith::template page_stock_consume<D>(l.cpu.page_nr_pages, nr_pages);
    // done_restock after charging `charged` pages: refill_stock(batch - nr_pages).
    auto charge_and_restock = [&](const typename D::u32& charged) {
      Local<D> after = l;
      after.shared.usage = Arith::template level_charge<D>(l.shared.usage, D::zext(charged));
      return refill_stock_if_any(after, Arith::template restock_pages<D>(charged, nr_pages));
    };
    Local<D> forced = l;
    forced.shared.usage = Arith::template level_charge<D>(l.shared.usage, D::zext(nr_pages));
    Local<D> missed = merge<D>(mode_is(kChargeBatch), charge_and_restock(batch),
                               merge<D>(mode_is(kChargeExact), charge_and_restock(nr_pages),
                                        merge<D>(mode_is(kChargeForced), forced, l)));
    return {hit.expr() || !mode_is(kChargeFails), merge<D>(hit.expr(), consumed, missed)};
  }

  // obj_cgroup_charge_pages (v6.6).
  Charged obj_cgroup_charge_pages(const Local<D>& l, const typename D::u32& nr_pages, const z3::expr& mode) const {
    Charged c = try_charge_memcg(l, nr_pages, mode);
    c.local.shared.charged_pages = z3::ite(c.ok, c.local.shared.charged_pages + wide(nr_pages), c.local.shared.charged_pages);
    return c;
  }

  // obj_cgroup_charge (v6.6).
  Charged obj_cgroup_charge(const Local<D>& l, const typename D::u64& size, const z3::expr& mode) const {
    auto request = Arith::template consume_request_bytes<D>(size);
    auto hit = l.cpu.obj_cached && Arith::template obj_stock_covers<D>(l.cpu.obj_nr_bytes, request);
    Local<D> consumed = l;
    consumed.cpu.obj_nr_bytes = Arith::template obj_stock_consume<D>(l.cpu.obj_nr_bytes, request);
    auto split = Arith::template obj_charge_split<D>(size, page);
    Charged paged = obj_cgroup_charge_pages(l, split.nr_pages, mode);
    auto has_tail = split.nr_bytes != D::lit32(0);
    Local<D> refilled =
        refill_obj_stock(paged.local, Arith::template charge_tail_bytes<D>(split.nr_bytes, page), D::lit_bool(false));
    Local<D> missed = merge<D>(paged.ok && has_tail.expr(), refilled, paged.local);
    return {hit.expr() || paged.ok, merge<D>(hit.expr(), consumed, missed)};
  }

  // drain_local_stock (v6.6): drain_obj_stock, then drain_stock.
  Local<D> drain_local_stock(const Local<D>& l) const { return drain_stock(drain_obj_stock(l)); }

  // One operation of kind `kind` (any but kDrainAll) on the current CPU.
  Local<D> local_op(unsigned kind, const Local<D>& l, const typename D::u64& size_bytes, const z3::expr& mode) const {
    const z3::expr size = wide(size_bytes);
    auto allocated = [&](const Charged& c, const z3::expr& bytes) {
      Local<D> after = c.local;
      after.shared.live_bytes = after.shared.live_bytes + bytes;
      return merge<D>(c.ok, after, l);
    };
    auto one_page = Arith::template kmem_page_nr_pages<D>(0);
    auto page_bytes = wide(Arith::template kmem_pages_bytes<D>(one_page, page));
    switch (kind) {
      case kAllocSlab: {
        Charged slab = obj_cgroup_charge(l, size_bytes, mode);
        slab.local = take_obj_stock(slab.local);  // mod_objcg_state after a successful charge
        return allocated(slab, size);
      }
      case kAllocPercpu:
        return allocated(obj_cgroup_charge(l, size_bytes, mode), size);
      case kFreeObj: {
        // obj_cgroup_uncharge(objcg, size_t size) passes size as unsigned int;
        // sizes here are < 2^24 so the conversion is exact.
        Local<D> freed = refill_obj_stock(l, D::trunc32(size_bytes), D::lit_bool(true));
        freed.shared.live_bytes = freed.shared.live_bytes - size;
        return freed;
      }
      case kAllocPage:
        return allocated(obj_cgroup_charge_pages(l, one_page, mode), page_bytes);
      case kFreePage: {
        Local<D> freed = obj_cgroup_uncharge_pages(l, one_page);
        freed.shared.live_bytes = freed.shared.live_bytes - page_bytes;
        return freed;
      }
      case kDrainObj:
        return drain_obj_stock(l);
      default:
        return drain_stock(l);
    }
  }

  // One operation of a history, its kind and CPU symbolic.
  State<D> step(const State<D>& s, const OpChoice<D>& op) const {
    auto kind_is = [&](unsigned k) { return op.kind == z3_context().bv_val(k, 3); };
    const Local<D> l = pick(s, op.cpu);
    Local<D> local_result = local_op(kDrainPage, l, op.size_bytes, op.charge);
    for (unsigned k = kDrainObj + 1; k-- > 0;)
      local_result = merge<D>(kind_is(k), local_op(k, l, op.size_bytes, op.charge), local_result);
    State<D> one_cpu = put(s, op.cpu, local_result);

    State<D> all = s;  // drain_all_stock: drain_local_stock on every CPU, in order
    for (unsigned c = 0; c < s.cpus.size(); ++c) {
      Local<D> drained = drain_local_stock({all.cpus[c], all.shared});
      all.cpus[c] = drained.cpu;
      all.shared = drained.shared;
    }
    State<D> out = one_cpu;
    z3::expr is_all = kind_is(kDrainAll);
    for (unsigned c = 0; c < s.cpus.size(); ++c) out.cpus[c] = merge<D>(is_all, all.cpus[c], one_cpu.cpus[c]);
    out.shared = merge<D>(is_all, all.shared, one_cpu.shared);
    return out;
  }
};

// ---- states and choices ----

template <class D>
Shared<D> initial_shared() {
  auto& ctx = z3_context();
  return {D::lit32(0), D::lit64(0), wide_lit(0), wide_lit(0), ctx.bool_val(false), ctx.bool_val(true)};
}

template <class D>
State<D> initial_state(unsigned ncpus) {
  State<D> s{{}, initial_shared<D>()};
  for (unsigned c = 0; c < ncpus; ++c) s.cpus.push_back({D::lit_bool(false), D::lit32(0), D::lit_bool(false), D::lit32(0)});
  return s;
}

template <class D>
CpuStock<D> symbolic_cpu(const std::string& prefix) {
  return {D::var_bool(prefix + "obj_cached"), D::var32(prefix + "obj_nr_bytes"), D::var_bool(prefix + "page_cached"),
          D::var32(prefix + "page_nr_pages")};
}

template <class D>
OpChoice<D> symbolic_op(const std::string& prefix) {
  auto& ctx = z3_context();
  return {ctx.bv_const((prefix + "kind").c_str(), 3), ctx.bv_const((prefix + "cpu").c_str(), 2),
          ctx.bv_const((prefix + "charge").c_str(), 2), D::var64(prefix + "size")};
}

inline z3::expr size_in_range(const z3::expr& size, const z3::expr& max_size_bytes) {
  return z3::uge(size, wide_lit(1)) && z3::ule(size, max_size_bytes);
}

// The operation is one the kernel could run in state s: an existing CPU, an
// object size within the bound, and frees of what is live.
template <class D>
z3::expr op_well_formed(const State<D>& s, const OpChoice<D>& op, const z3::expr& max_size_bytes,
                        arith::PageGeometry page) {
  auto kind_is = [&](unsigned k) { return op.kind == z3_context().bv_val(k, 3); };
  auto size = wide(op.size_bytes);
  return cpu_exists(op.cpu, static_cast<unsigned>(s.cpus.size())) && size_in_range(size, max_size_bytes) &&
         z3::implies(kind_is(kFreeObj), z3::ule(size, s.shared.live_bytes)) &&
         z3::implies(kind_is(kFreePage), z3::uge(s.shared.live_bytes, wide_lit(page.size_bytes)));
}

// ---- the invariant ----

// count * x for a count of CPUs (0..kMaxCpus): a sum of guarded copies, not a
// multiplier circuit (a 96-bit symbolic product costs the solver seconds).
inline z3::expr cpus_times(const z3::expr& count, const z3::expr& x) {
  z3::expr sum = wide_lit(0);
  for (unsigned i = 1; i <= kMaxCpus; ++i) sum = sum + z3::ite(z3::uge(count, wide_lit(i)), x, wide_lit(0));
  return sum;
}

// Per-CPU byte stock bound: max(PAGE_SIZE, max_size + PAGE_SIZE - 2,
// ncpus * (PAGE_SIZE - 1)). The last term is mod_objcg_state's replace, which
// takes all of nr_charged_bytes into the stock without trimming it.
inline z3::expr obj_stock_bound(const z3::expr& max_size_bytes, const z3::expr& ncpus, arith::PageGeometry page) {
  auto p = wide_lit(page.size_bytes);
  auto charge_path = max_size_bytes + p - wide_lit(2);
  auto gathered = cpus_times(ncpus, wide_lit(page.size_bytes - 1));
  auto m = z3::ite(z3::uge(charge_path, p), charge_path, p);
  return z3::ite(z3::uge(gathered, m), gathered, m);
}

// The slack bound: ncpus * (MEMCG_CHARGE_BATCH * PAGE_SIZE + byte stock bound).
inline z3::expr slack_bound(const z3::expr& max_size_bytes, const z3::expr& ncpus, arith::PageGeometry page) {
  return cpus_times(ncpus, wide_lit(kChargeBatchPages) * wide_lit(page.size_bytes) + obj_stock_bound(max_size_bytes, ncpus, page));
}

template <class D>
z3::expr count_true(const std::vector<CpuStock<D>>& cpus) {
  z3::expr n = wide_lit(0);
  for (const auto& cpu : cpus) n = n + z3::ite(cpu.obj_cached.expr(), wide_lit(1), wide_lit(0));
  return n;
}

template <class D>
z3::expr stock_bytes(const State<D>& s) {
  z3::expr sum = wide_lit(0);
  for (const auto& cpu : s.cpus) sum = sum + wide(cpu.obj_nr_bytes);
  return sum;
}

template <class D>
z3::expr stock_pages(const State<D>& s) {
  z3::expr sum = wide_lit(0);
  for (const auto& cpu : s.cpus) sum = sum + wide(cpu.page_nr_pages);
  return sum;
}

// INV-BYTE-CONSERVATION for the objcg.
template <class D>
z3::expr byte_conservation(const State<D>& s, arith::PageGeometry page) {
  return s.shared.live_bytes + stock_bytes(s) + wide(s.shared.nr_charged_bytes) ==
         wide_lit(page.size_bytes) * s.shared.charged_pages;
}

// INV-PAGE-CONSERVATION for the memcg (its usage is page stocks + objcg pages).
template <class D>
z3::expr page_conservation(const State<D>& s) {
  return wide(s.shared.usage) == stock_pages(s) + s.shared.charged_pages;
}

// One CPU's part of INV-STOCK-BOUNDS (and of what makes them inductive:
// an uncached stock holds nothing of ours).
template <class D>
z3::expr cpu_bounds(const CpuStock<D>& cpu, const z3::expr& obj_bound) {
  return z3::implies(!cpu.obj_cached.expr(), wide(cpu.obj_nr_bytes) == wide_lit(0)) &&
         z3::ule(wide(cpu.obj_nr_bytes), obj_bound) &&
         z3::implies(!cpu.page_cached.expr(), wide(cpu.page_nr_pages) == wide_lit(0)) &&
         z3::ule(wide(cpu.page_nr_pages), wide_lit(kChargeBatchPages));
}

// nr_charged_bytes holds at most one sub-page remainder per CPU that does
// not cache the objcg (each drain adds < PAGE_SIZE and uncaches; each
// replace takes it all).
inline z3::expr charged_bytes_bound(const z3::expr& nr_charged_bytes_wide, const z3::expr& ncpus,
                                    const z3::expr& cached, arith::PageGeometry page) {
  return z3::ule(nr_charged_bytes_wide, cpus_times(ncpus - cached, wide_lit(page.size_bytes - 1)));
}

template <class D>
z3::expr stock_bounds(const State<D>& s, const z3::expr& max_size_bytes, arith::PageGeometry page) {
  z3::expr ncpus = wide_lit(s.cpus.size());
  auto bound = obj_stock_bound(max_size_bytes, ncpus, page);
  std::vector<z3::expr> parts;
  for (const auto& cpu : s.cpus) parts.push_back(cpu_bounds(cpu, bound));
  parts.push_back(charged_bytes_bound(wide(s.shared.nr_charged_bytes), ncpus, count_true(s.cpus), page));
  return all_of(parts);
}

template <class D>
z3::expr invariant(const State<D>& s, const z3::expr& max_size_bytes, arith::PageGeometry page) {
  return byte_conservation(s, page) && page_conservation(s) && stock_bounds(s, max_size_bytes, page);
}

// obj_cgroup_release (v6.6) can run: no live object or page, no stock caching the objcg.
template <class D>
z3::expr release_ready(const State<D>& s) {
  z3::expr ready = s.shared.live_bytes == wide_lit(0);
  for (const auto& cpu : s.cpus) ready = ready && !cpu.obj_cached.expr();
  return ready;
}

// ---- printing ----

template <class D>
std::string describe_cpu(const z3::model& m, const CpuStock<D>& cpu) {
  return fmt::format("obj stock {}, page stock {}",
                     model_true(m, cpu.obj_cached) ? model_value(m, cpu.obj_nr_bytes) + " bytes" : "-",
                     model_true(m, cpu.page_cached) ? model_value(m, cpu.page_nr_pages) + " pages" : "-");
}

template <class D>
std::string describe_shared(const z3::model& m, const Shared<D>& s) {
  return fmt::format("usage={} pages, objcg charged {} pages, live {} bytes, nr_charged_bytes={}",
                     model_value(m, s.usage), model_value(m, s.charged_pages), model_value(m, s.live_bytes),
                     model_value(m, s.nr_charged_bytes));
}

template <class D>
std::string describe_state(const z3::model& m, const State<D>& s) {
  std::string out = describe_shared(m, s.shared);
  for (unsigned c = 0; c < s.cpus.size(); ++c) out += fmt::format("; cpu{}: {}", c, describe_cpu(m, s.cpus[c]));
  return out;
}

template <class D>
std::string describe_op(const z3::model& m, unsigned kind, unsigned cpu, unsigned mode, const typename D::u64& size) {
  switch (kind) {
    case kAllocSlab:
    case kAllocPercpu:
      return fmt::format("cpu{}: {} of {} bytes (on a page stock miss: {})", cpu, kOpNames[kind],
                         model_value(m, size), kChargeModeNames[mode]);
    case kFreeObj:
      return fmt::format("cpu{}: {} of {} bytes", cpu, kOpNames[kind], model_value(m, size));
    case kAllocPage:
      return fmt::format("cpu{}: {} (on a page stock miss: {})", cpu, kOpNames[kind], kChargeModeNames[mode]);
    case kDrainAll:
      return kOpNames[kind];
    default:
      return fmt::format("cpu{}: {}", cpu, kOpNames[kind]);
  }
}

template <class D>
std::string describe_op(const z3::model& m, const OpChoice<D>& op) {
  auto value = [&](const z3::expr& e) { return static_cast<unsigned>(m.eval(e, true).get_numeral_uint64()); };
  return describe_op<D>(m, value(op.kind), value(op.cpu), value(op.charge), op.size_bytes);
}

}  // namespace mv::proofs::stock_model
