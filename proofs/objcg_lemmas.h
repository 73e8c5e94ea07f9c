// Lemmas about one objcg across N CPUs (proofs/stock_model.h): byte
// conservation and the byte-stock bounds by induction, obj_cgroup_release's
// alignment, the usage slack of its memcg, symbolic histories (a reachability
// witness and the kernel comment's stock bound), and memcg_reparent_objcgs.
// Kernel: mm/memcontrol.c v6.6.
//
// The inductive lemmas take one operation on CPU 0 from any state satisfying
// the invariant. CPUs are interchangeable (the model and the invariant are
// symmetric in them), so CPU 0 stands for any CPU; an operation on it cannot
// touch another CPU's stock, so the other CPUs enter as aggregates (their
// cached count and stocked bytes); the CPU count is symbolic, 1..4, in one
// query; drain_all_stock is drain_obj_stock and drain_stock on each CPU in
// turn, so it is covered by those two operations.
#pragma once

#include <fmt/core.h>

#include <cstdint>
#include <string>
#include <vector>

#include "proofs/kernel_arith.h"
#include "proofs/lemma.h"
#include "proofs/page_counter_lemmas.h"
#include "proofs/stock_model.h"

namespace mv::proofs {

namespace objcg_detail {

using namespace stock_model;

// CPU 0's stock and the objcg, everything else folded into aggregates.
// The ghosts are derived so that byte conservation holds by construction:
// live = PAGE_SIZE * charged - stock0 - other stocks - nr_charged_bytes.
template <class D>
struct ByteFrame {
  Local<D> local;
  z3::expr ncpus;           // symbolic CPU count, 1..4
  z3::expr other_cached;    // CPUs other than 0 caching the objcg
  z3::expr other_bytes;     // their stocked bytes
  z3::expr max_size_bytes;  // symbolic bound on object sizes
  z3::expr assumptions;     // the byte invariant, and ranges

  ByteFrame(const LemmaConfig& c, const std::string& prefix) : ByteFrame(c, prefix, symbolic_cpu<D>(prefix + "cpu0_")) {}

  ByteFrame(const LemmaConfig& c, const std::string& prefix, CpuStock<D> cpu0)
      : local{cpu0, initial_shared<D>()},
        ncpus(ghost(prefix + "ncpus")),
        other_cached(ghost(prefix + "other_cpus_cached")),
        other_bytes(ghost(prefix + "other_cpus_stock_bytes")),
        max_size_bytes(ghost(prefix + "max_size_bytes")),
        assumptions(z3_context().bool_val(true)) {
    auto p = wide_lit(c.page.size_bytes);
    local.cpu.page_cached = D::lit_bool(false);  // the byte side never reads the page stock
    local.cpu.page_nr_pages = D::lit32(0);
    local.shared.nr_charged_bytes = D::var32(prefix + "nr_charged_bytes");
    local.shared.charged_pages = ghost(prefix + "charged_pages");
    z3::expr held = wide(local.cpu.obj_nr_bytes) + other_bytes + wide(local.shared.nr_charged_bytes);
    local.shared.live_bytes = p * local.shared.charged_pages - held;
    auto bound = obj_stock_bound(max_size_bytes, ncpus, c.page);
    assumptions = all_of({
        z3::uge(ncpus, wide_lit(1)), z3::ule(ncpus, wide_lit(kMaxCpus)),
        z3::uge(max_size_bytes, wide_lit(1)), z3::ule(max_size_bytes, wide_lit(kObjSizeMaxBytes)),
        z3::ult(other_cached, ncpus), z3::ule(other_bytes, cpus_times(other_cached, bound)),
        // The objcg's charged pages are pages of its memcg's usage.
        z3::ule(local.shared.charged_pages, wide_lit(page_counter_max_pages(c))),
        cpu_bounds(local.cpu, bound),
        charged_bytes_bound(wide(local.shared.nr_charged_bytes), ncpus, cached_total(local), c.page),
    });
  }

  static z3::expr ghost(const std::string& name) { return z3_context().bv_const(name.c_str(), kGhostBits); }

  z3::expr cached_total(const Local<D>& l) const {
    return other_cached + z3::ite(l.cpu.obj_cached.expr(), wide_lit(1), wide_lit(0));
  }

  // The byte invariant in state l (the other CPUs unchanged). The identity is
  // checked modulo 2^96; with live bytes in [0, 2^80) (the live_range
  // obligations), stocks below 2^40 and PAGE_SIZE * charged pages below 2^80,
  // it is the identity over the integers.
  z3::expr invariant(const Local<D>& l, const LemmaConfig& c) const { return conservation(l, c) && bounds(l, c); }
  z3::expr conservation(const Local<D>& l, const LemmaConfig& c) const {
    z3::expr held = wide(l.cpu.obj_nr_bytes) + other_bytes + wide(l.shared.nr_charged_bytes);
    return l.shared.live_bytes + held == wide_lit(c.page.size_bytes) * l.shared.charged_pages;
  }
  z3::expr bounds(const Local<D>& l, const LemmaConfig& c) const {
    return cpu_bounds(l.cpu, obj_stock_bound(max_size_bytes, ncpus, c.page)) &&
           charged_bytes_bound(wide(l.shared.nr_charged_bytes), ncpus, cached_total(l), c.page);
  }

  std::string describe(const z3::model& m, const Local<D>& l) const {
    return fmt::format("{} ({} CPUs; other CPUs: {} caching the objcg with {} bytes); cpu0: {}",
                       describe_shared(m, l.shared), model_value(m, ncpus), model_value(m, other_cached),
                       model_value(m, other_bytes), describe_cpu(m, l.cpu));
  }
};

// A history of kHistoryLength operations on kMaxCpus CPUs from a fresh objcg,
// restricted to what the kernel can do (unlike the inductive lemmas, which
// over-approximate): a slab charge is obj_full_size of one object of 8 bytes
// to 2 * PAGE_SIZE (KMALLOC_MAX_CACHE_SIZE), a percpu charge is
// pcpu_obj_full_size(ALIGN(size, 4)) of a 1-byte to 32 KiB request on
// kMaxCpus possible CPUs, and a free frees one earlier object, still live, of
// its kind and size. Refutations over histories are findings, so they must
// be real. The histories run the byte side of the stocks
// (Kernel::with_page_stock false): the byte stocks, nr_charged_bytes and the
// objcg's pages never depend on the page stock (a page charge only succeeds
// or fails, and both are open), so for claims about them this is the exact
// projection of the full model, at a fraction of its size.
template <class D, class Arith>
struct History {
  std::vector<State<D>> states;  // states[0] initial, states[k + 1] after op k
  std::vector<OpChoice<D>> ops;
  std::vector<typename D::u64> requests;  // slab object size / percpu request of op k
  std::vector<z3::expr> targets;          // which earlier op a free frees (3 bits)
  z3::expr max_size_bytes;
  z3::expr well_formed;

  History(const LemmaConfig& c, const std::string& prefix)
      : max_size_bytes(z3_context().bv_const((prefix + "max_size_bytes").c_str(), kGhostBits)),
        well_formed(z3::uge(max_size_bytes, wide_lit(1)) && z3::ule(max_size_bytes, wide_lit(kObjSizeMaxBytes))) {
    auto& ctx = z3_context();
    Kernel<D, Arith> kernel{c.page, false};
    states.push_back(initial_state<D>(kMaxCpus));
    for (unsigned k = 0; k < kHistoryLength; ++k) {
      auto step_prefix = fmt::format("{}op{}_", prefix, k);
      ops.push_back(symbolic_op<D>(step_prefix));
      requests.push_back(D::var64(step_prefix + "request"));
      targets.push_back(ctx.bv_const((step_prefix + "frees_op").c_str(), 3));
      well_formed = well_formed && op_well_formed(states.back(), ops.back(), max_size_bytes, c.page) &&
                    charge_size_is_real(k, c);
      states.push_back(kernel.step(states.back(), ops.back()));
    }
    for (unsigned k = 0; k < kHistoryLength; ++k) well_formed = well_formed && frees_a_live_object(k);
  }

  z3::expr kind_is(unsigned k, unsigned kind) const { return ops[k].kind == z3_context().bv_val(kind, 3); }

  z3::expr charge_size_is_real(unsigned k, const LemmaConfig& c) const {
    auto request = wide(requests[k]);
    auto slab = Arith::template slab_obj_full_size<D>(requests[k]);
    auto percpu = Arith::template pcpu_obj_full_size<D>(Arith::template pcpu_aligned_size<D>(requests[k]), kMaxCpus);
    return z3::implies(kind_is(k, kAllocSlab), z3::uge(request, wide_lit(8)) &&
                                                   z3::ule(request, wide_lit(2 * c.page.size_bytes)) &&
                                                   wide(ops[k].size_bytes) == wide(slab)) &&
           z3::implies(kind_is(k, kAllocPercpu), z3::uge(request, wide_lit(1)) &&
                                                     z3::ule(request, wide_lit(32 * 1024)) &&
                                                     wide(ops[k].size_bytes) == wide(percpu));
  }

  // Op k charged something (its live bytes grew).
  z3::expr allocated(unsigned k) const { return states[k + 1].shared.live_bytes != states[k].shared.live_bytes; }

  z3::expr frees_a_live_object(unsigned j) const {
    auto& ctx = z3_context();
    auto frees = kind_is(j, kFreeObj) || kind_is(j, kFreePage);
    z3::expr some_target = ctx.bool_val(false);
    for (unsigned t = 0; t < j; ++t) {
      auto same_kind = (kind_is(j, kFreeObj) && (kind_is(t, kAllocSlab) || kind_is(t, kAllocPercpu)) &&
                        wide(ops[j].size_bytes) == wide(ops[t].size_bytes)) ||
                       (kind_is(j, kFreePage) && kind_is(t, kAllocPage));
      z3::expr not_freed_yet = ctx.bool_val(true);
      for (unsigned i = t + 1; i < j; ++i)
        not_freed_yet = not_freed_yet && !((kind_is(i, kFreeObj) || kind_is(i, kFreePage)) &&
                                           targets[i] == ctx.bv_val(t, 3));
      some_target = some_target || (targets[j] == ctx.bv_val(t, 3) && same_kind && allocated(t) && not_freed_yet);
    }
    return z3::implies(frees, some_target);
  }

  std::string describe_step(const z3::model& m, unsigned k) const {
    auto value = [&](const z3::expr& e) { return m.eval(e, true).get_numeral_uint64(); };
    auto kind = static_cast<unsigned>(value(ops[k].kind));
    auto cpu = value(ops[k].cpu);
    // The byte side only sees whether obj_cgroup_charge_pages succeeded.
    const char* charge = value(ops[k].charge) == kChargeFails ? "page charge fails: ENOMEM" : "pages charged";
    switch (kind) {
      case kAllocSlab:
        return fmt::format("cpu{}: slab alloc of one {}-byte object, obj_cgroup_charge({} bytes) ({})", cpu,
                           model_value(m, requests[k]), model_value(m, ops[k].size_bytes), charge);
      case kAllocPercpu:
        return fmt::format("cpu{}: pcpu_alloc of {} bytes on {} possible CPUs, obj_cgroup_charge({} bytes) ({})", cpu,
                           model_value(m, requests[k]), kMaxCpus, model_value(m, ops[k].size_bytes), charge);
      case kAllocPage:
        return fmt::format("cpu{}: kmem page alloc ({})", cpu, charge);
      case kFreeObj:
        return fmt::format("cpu{}: free of step {}'s object, obj_cgroup_uncharge({} bytes)", cpu,
                           value(targets[k]) + 1, model_value(m, ops[k].size_bytes));
      case kFreePage:
        return fmt::format("cpu{}: free of step {}'s kmem page", cpu, value(targets[k]) + 1);
      case kDrainObj:
        return fmt::format("cpu{}: another objcg takes the byte stock (drain_obj_stock)", cpu);
      case kDrainPage:
        return fmt::format("cpu{}: another memcg takes the page stock (drain_stock)", cpu);
      default:
        return "drain_all_stock (every CPU's drain_local_stock)";
    }
  }

  // The history up to the first step after which `bad` holds.
  std::string explain(const z3::model& m, const std::vector<z3::expr>& bad_after_step) const {
    std::string out = fmt::format("charges of at most {} bytes;", model_value(m, max_size_bytes));
    for (unsigned k = 0; k < ops.size(); ++k) {
      out += fmt::format(" step {}: {};", k + 1, describe_step(m, k));
      if (model_true(m, bad_after_step[k])) {
        const auto& s = states[k + 1];
        out += fmt::format(" then: objcg charged {} pages, live {} bytes, nr_charged_bytes={}",
                           model_value(m, s.shared.charged_pages), model_value(m, s.shared.live_bytes),
                           model_value(m, s.shared.nr_charged_bytes));
        for (unsigned cpu = 0; cpu < s.cpus.size(); ++cpu)
          out += fmt::format("; cpu{}: byte stock {}", cpu,
                             model_true(m, s.cpus[cpu].obj_cached) ? model_value(m, s.cpus[cpu].obj_nr_bytes) + " bytes"
                                                                   : "-");
        break;
      }
    }
    return out;
  }
};

}  // namespace objcg_detail

// One operation on any CPU, from any state satisfying the byte invariant
// (live + stocks + nr_charged_bytes == PAGE_SIZE * charged pages; each byte
// stock <= max(PAGE_SIZE, max_size + PAGE_SIZE - 2, ncpus * (PAGE_SIZE - 1));
// an uncached stock holds none of the objcg's bytes; nr_charged_bytes <=
// (ncpus - CPUs caching the objcg) * (PAGE_SIZE - 1)), keeps it, and passes the
// page side at most kMaxPagesPerCall pages at a time. With the fresh objcg
// (all zero) satisfying it, it holds after histories of any length.
template <class Arith = KernelArith>
LemmaResult objcg_byte_invariant_inductive(const LemmaConfig& c) {
  return run_at_width(c, [&]<class D>() {
    using namespace stock_model;
    std::vector<Obligation> obligations;
    Kernel<D, Arith> kernel{c.page, false};
    for (unsigned kind = 0; kind < kDrainAll; ++kind) {
      auto prefix = fmt::format("k{}_", kind);
      objcg_detail::ByteFrame<D> f(c, prefix);
      auto size = D::var64(prefix + "size");
      auto mode = z3_context().bv_const((prefix + "charge").c_str(), 2);
      Local<D> post = kernel.local_op(kind, f.local, size, mode);
      auto assumptions = f.assumptions && size_in_range(wide(size), f.max_size_bytes);
      if (kind == kFreeObj) assumptions = assumptions && z3::ule(wide(size), f.local.shared.live_bytes);
      if (kind == kFreePage) assumptions = assumptions && z3::uge(f.local.shared.live_bytes, wide_lit(c.page.size_bytes));
      auto explain = [=](const z3::model& m) {
        return fmt::format("objects of at most {} bytes; from {}; {} gives {}", model_value(m, f.max_size_bytes),
                           f.describe(m, f.local),
                           describe_op<D>(m, kind, 0, static_cast<unsigned>(m.eval(mode, true).get_numeral_uint64()), size),
                           f.describe(m, post));
      };
      // Conservation is an identity over sums: cofactor the branches so it
      // cancels word-wise. The bounds are comparisons: plain bit-blasting.
      obligations.push_back({fmt::format("{}: conservation", kOpNames[kind]), assumptions, f.conservation(post, c),
                             explain, std::nullopt, Tactic::cofactor});
      obligations.push_back({fmt::format("{}: bounds", kOpNames[kind]), assumptions,
                             f.bounds(post, c) && post.shared.pages_bounded, explain, std::nullopt});
    }
    // The ghost live bytes stay in [0, 2^80): +size on a successful charge,
    // -size on a free of at most what is live (checked with live free, as the
    // update never depends on how live is represented). Within the bounds
    // (charged pages <= PAGE_COUNTER_MAX) conservation keeps live below 2^63,
    // so the assumption below holds in every state the induction visits.
    {
      objcg_detail::ByteFrame<D> f(c, "range_");
      std::vector<z3::expr> as{f.assumptions}, claims;
      for (unsigned kind = 0; kind < kDrainAll; ++kind) {
        auto prefix = fmt::format("range_k{}_", kind);
        Local<D> l = f.local;
        l.shared.live_bytes = z3_context().bv_const((prefix + "live_bytes").c_str(), kGhostBits);
        auto size = D::var64(prefix + "size");
        auto mode = z3_context().bv_const((prefix + "charge").c_str(), 2);
        Local<D> post = kernel.local_op(kind, l, size, mode);
        as.push_back(size_in_range(wide(size), f.max_size_bytes) && z3::ult(l.shared.live_bytes, wide_pow2(79)));
        if (kind == kFreeObj) as.push_back(z3::ule(wide(size), l.shared.live_bytes));
        if (kind == kFreePage) as.push_back(z3::uge(l.shared.live_bytes, wide_lit(c.page.size_bytes)));
        claims.push_back(z3::ult(post.shared.live_bytes, wide_pow2(80)));
      }
      obligations.push_back({"live bytes stay in range", all_of(as), all_of(claims),
                             [](const z3::model& m) { return "live bytes leave [0, 2^80): " + m.to_string(); },
                             std::nullopt});
    }
    // The fresh objcg: no stock caches it, no bytes anywhere.
    objcg_detail::ByteFrame<D> fresh(c, "fresh_", initial_state<D>(1).cpus[0]);
    auto empty = fresh.local;
    empty.shared = initial_shared<D>();
    auto base = fresh.invariant(empty, c);
    obligations.push_back({"fresh objcg", z3::uge(fresh.ncpus, wide_lit(1)) && z3::ule(fresh.ncpus, wide_lit(kMaxCpus)) &&
                                              z3::uge(fresh.max_size_bytes, wide_lit(1)) && z3::ule(fresh.other_bytes, wide_lit(0)) &&
                                              z3::ule(fresh.other_cached, wide_lit(0)),
                           base, [](const z3::model&) { return std::string("the fresh objcg breaks the invariant"); },
                           std::nullopt});
    return obligations;
  });
}

// obj_cgroup_release (v6.6) from any state satisfying the byte invariant with
// no live bytes and no stock caching the objcg: nr_charged_bytes is
// page-aligned (its WARN_ON_ONCE cannot fire) and holds exactly the objcg's
// charged pages, a count the page side accepts.
template <class Arith = KernelArith>
LemmaResult objcg_release_aligned(const LemmaConfig& c) {
  return run_at_width(c, [&]<class D>() {
    using namespace stock_model;
    objcg_detail::ByteFrame<D> f(c, "release_", initial_state<D>(1).cpus[0]);
    auto rel = Arith::template obj_release_split<D>(f.local.shared.nr_charged_bytes, c.page);
    auto assumptions = f.assumptions && f.other_cached == wide_lit(0) && f.local.shared.live_bytes == wide_lit(0);
    auto claim = rel.aligned.expr() && wide(rel.nr_pages) == f.local.shared.charged_pages &&
                 z3::ule(wide(rel.nr_pages), wide_lit(kMaxPagesPerCall));
    auto explain = [=](const z3::model& m) {
      return fmt::format("obj_cgroup_release with {}: nr_pages={} aligned={}", f.describe(m, f.local),
                         model_value(m, rel.nr_pages), model_value(m, rel.aligned));
    };
    return std::vector<Obligation>{{"", assumptions, claim, explain, std::nullopt}};
  });
}

// The slack of a memcg whose usage is its page stocks plus one objcg's pages:
// usage_pages * PAGE_SIZE - live_bytes (bytes charged but backing no object)
// is what the stocks and nr_charged_bytes hold, and is at most
//   ncpus * (MEMCG_CHARGE_BATCH * PAGE_SIZE + max(PAGE_SIZE, max_size + PAGE_SIZE - 2, ncpus * (PAGE_SIZE - 1)))
// and never negative, in every state of both invariants on 1..4 CPUs; the
// stock arithmetic keeps each CPU's share within its part of the bound.
template <class Arith = KernelArith>
LemmaResult memcg_slack_bound(const LemmaConfig& c) {
  return run_at_width(c, [&]<class D>() {
    using namespace stock_model;
    auto& ctx = z3_context();
    std::vector<Obligation> obligations;
    auto p = wide_lit(c.page.size_bytes);
    {
      // Any state of the invariants: slack within the bound.
      State<D> s{{}, initial_shared<D>()};
      for (unsigned cpu = 0; cpu < kMaxCpus; ++cpu) s.cpus.push_back(symbolic_cpu<D>(fmt::format("slack_cpu{}_", cpu)));
      s.shared.usage = D::var64("slack_usage");
      s.shared.nr_charged_bytes = D::var32("slack_nr_charged_bytes");
      s.shared.charged_pages = wide(s.shared.usage) - stock_pages(s);
      s.shared.live_bytes = p * s.shared.charged_pages - stock_bytes(s) - wide(s.shared.nr_charged_bytes);
      z3::expr ncpus = ctx.bv_const("slack_ncpus", kGhostBits);
      z3::expr max_size = ctx.bv_const("slack_max_size_bytes", kGhostBits);
      auto bound = obj_stock_bound(max_size, ncpus, c.page);
      std::vector<z3::expr> as{z3::uge(ncpus, wide_lit(1)), z3::ule(ncpus, wide_lit(kMaxCpus)),
                               z3::uge(max_size, wide_lit(1)), z3::ule(max_size, wide_lit(kObjSizeMaxBytes)),
                               z3::ule(wide(s.shared.usage), wide_lit(page_counter_max_pages(c))),
                               z3::ule(stock_pages(s), wide(s.shared.usage)),
                               z3::ule(stock_bytes(s) + wide(s.shared.nr_charged_bytes), p * s.shared.charged_pages),
                               charged_bytes_bound(wide(s.shared.nr_charged_bytes), ncpus, count_true(s.cpus), c.page)};
      for (unsigned cpu = 0; cpu < kMaxCpus; ++cpu) {
        const auto& st = s.cpus[cpu];
        as.push_back(cpu_bounds(st, bound));
        // CPUs beyond the count exist in the state but hold nothing.
        as.push_back(z3::implies(z3::ule(ncpus, wide_lit(cpu)), !st.obj_cached.expr() && !st.page_cached.expr()));
      }
      // The slack is what the stocks and nr_charged_bytes hold (an identity
      // modulo 2^96, so over the integers: every term is far below 2^96 and
      // live bytes are not negative), hence never negative; that sum is
      // within the bound.
      auto charged_bytes = p * wide(s.shared.usage);
      auto slack = charged_bytes - s.shared.live_bytes;
      auto held = p * stock_pages(s) + stock_bytes(s) + wide(s.shared.nr_charged_bytes);
      // The bound is compared at 40 bits: every term is below 2^28 there
      // (64 pages of 64 KiB, stocks under 2^25), so nothing wraps, and the
      // solver is spared 96-bit adders.
      constexpr unsigned kNarrow = 40;
      auto narrow = [](const z3::expr& wide_value) { return wide_value.extract(kNarrow - 1, 0); };
      auto held_narrow = narrow(held);
      auto bound_narrow = narrow(slack_bound(max_size, ncpus, c.page));
      auto claim = slack == held && z3::ult(held, wide_pow2(kNarrow - 1)) &&
                   z3::ule(held_narrow, bound_narrow) && z3::ult(slack_bound(max_size, ncpus, c.page), wide_pow2(kNarrow - 1));
      auto explain = [=](const z3::model& m) {
        return fmt::format("{} CPUs, objects <= {} bytes: slack {} bytes > bound {}; {}", model_value(m, ncpus),
                           model_value(m, max_size), model_value(m, slack),
                           model_value(m, slack_bound(max_size, ncpus, c.page)), describe_state(m, s));
      };
      obligations.push_back({"any invariant state", all_of(as), claim, explain, std::nullopt});
    }
    // Each CPU's share stays within its part of the bound after every
    // operation: page stock <= MEMCG_CHARGE_BATCH (page side), byte stock
    // within the byte bound (byte side).
    Kernel<D, Arith> kernel{c.page, true};
    for (unsigned kind : {kAllocSlab, kAllocPercpu, kFreeObj, kAllocPage, kFreePage, kDrainObj}) {
      auto prefix = fmt::format("slack_k{}_", kind);
      objcg_detail::ByteFrame<D> f(c, prefix);
      Local<D> l = f.local;
      l.cpu.page_cached = D::var_bool(prefix + "page_cached");
      l.cpu.page_nr_pages = D::var32(prefix + "page_nr_pages");
      l.shared.usage = D::var64(prefix + "usage");
      auto size = D::var64(prefix + "size");
      auto mode = ctx.bv_const((prefix + "charge").c_str(), 2);
      Local<D> post = kernel.local_op(kind, l, size, mode);
      auto assumptions = f.assumptions && cpu_bounds(l.cpu, obj_stock_bound(f.max_size_bytes, f.ncpus, c.page)) &&
                         size_in_range(wide(size), f.max_size_bytes) &&
                         z3::ule(wide(l.shared.usage), wide_lit(page_counter_max_pages(c)));
      if (kind == kFreeObj) assumptions = assumptions && z3::ule(wide(size), f.local.shared.live_bytes);
      auto claim = cpu_bounds(post.cpu, obj_stock_bound(f.max_size_bytes, f.ncpus, c.page));
      auto explain = [=](const z3::model& m) {
        return fmt::format("{} on cpu0 with {}: cpu0 ends with {}", kOpNames[kind], describe_cpu(m, l.cpu),
                           describe_cpu(m, post.cpu));
      };
      obligations.push_back({fmt::format("share after {}", kOpNames[kind]), assumptions, claim, explain, std::nullopt});
    }
    return obligations;
  });
}

// Symbolic histories of kHistoryLength operations on kMaxCpus CPUs from a
// fresh objcg. Claim: no history reaches a release-ready objcg (no live
// bytes, no stock caching it) whose page-aligned nr_charged_bytes holds whole
// pages. Expected refuted: the counterexample is a witness that
// obj_cgroup_release really uncharges pages gathered in nr_charged_bytes from
// several CPUs' remainders (and that the histories are not vacuous).
template <class Arith = KernelArith>
LemmaResult objcg_release_witness(const LemmaConfig& c) {
  return run_at_width(c, [&]<class D>() {
    using namespace stock_model;
    objcg_detail::History<D, Arith> h(c, "w_");
    std::vector<z3::expr> bad, good;
    for (unsigned k = 1; k < h.states.size(); ++k) {
      const auto& s = h.states[k];
      auto rel = Arith::template obj_release_split<D>(s.shared.nr_charged_bytes, c.page);
      z3::expr reached = release_ready(s) && rel.aligned.expr() && wide(rel.nr_pages) != wide_lit(0);
      bad.push_back(reached);
      good.push_back(!reached);
    }
    auto explain = [h, bad](const z3::model& m) { return h.explain(m, bad); };
    return std::vector<Obligation>{{"4 CPUs", h.well_formed, all_of(good), explain, std::nullopt}};
  });
}

// The kernel comment in obj_cgroup_charge bounds the pre-charged bytes by
// sizeof(object) + PAGE_SIZE - 2. Claim: over symbolic histories every byte
// stock stays within max(PAGE_SIZE, max_size + PAGE_SIZE - 2). Expected
// refuted: mod_objcg_state's replace takes all of nr_charged_bytes (up to
// ncpus * (PAGE_SIZE - 1)) into one stock without trimming it; the byte
// invariant needs that term.
template <class Arith = KernelArith>
LemmaResult obj_stock_comment_bound(const LemmaConfig& c) {
  return run_at_width(c, [&]<class D>() {
    using namespace stock_model;
    objcg_detail::History<D, Arith> h(c, "cb_");
    auto p = wide_lit(c.page.size_bytes);
    auto charge_path = h.max_size_bytes + p - wide_lit(2);
    auto comment_bound = z3::ite(z3::uge(charge_path, p), charge_path, p);
    std::vector<z3::expr> bad, good;
    for (unsigned k = 1; k < h.states.size(); ++k) {
      z3::expr ok = z3_context().bool_val(true);
      for (const auto& cpu : h.states[k].cpus) ok = ok && z3::ule(wide(cpu.obj_nr_bytes), comment_bound);
      good.push_back(ok);
      bad.push_back(!ok);
    }
    auto explain = [h, bad](const z3::model& m) { return h.explain(m, bad); };
    return std::vector<Obligation>{{"4 CPUs", h.well_formed, all_of(good), explain, std::nullopt}};
  });
}

// memcg_reparent_objcgs (v6.6) from child C to parent P (under the root R),
// then drain_all_stock(C) and the reparented objcgs' uncharges through P,
// each a step from any state of the post-reparent identities:
//   usage(P) == P's own pages + reparented objcg pages + C's stocked pages,
//   usage(R) == R's own pages + usage(P),
//   usage(C) == C's stocked pages + the pages C's objcgs had (its stale count).
// Every online memcg's usage stays the pages held in its subtree, nothing is
// counted at C any more, no page_counter_cancel underflows.
template <class Arith = KernelArith>
LemmaResult objcg_reparent_conservation(const LemmaConfig& c) {
  return run_at_width(c, [&]<class D>() {
    using U = typename D::u64;
    std::vector<Obligation> obligations;
    const std::uint64_t counter_max = page_counter_max_pages(c);
    // Every page count is at most PAGE_COUNTER_MAX = LONG_MAX / PAGE_SIZE and
    // a counter sums at most four of them, so no sum below wraps an unsigned
    // long: the identities are checked in the kernel's own width.
    auto below_max = [&](std::initializer_list<U> parts) {
      U sum = D::lit64(0);
      z3::expr each = z3_context().bool_val(true);
      for (const U& p : parts) {
        sum = sum + p;
        each = each && (p <= D::lit64(counter_max)).expr();
      }
      return each && (sum <= D::lit64(counter_max)).expr();
    };
    // page_counter_uncharge(counter, n) from `level` up (0 = C, 1 = P, 2 = R).
    auto uncharge_from = [&](std::vector<U>& usage, unsigned level, const U& nr_pages, z3::expr& warned) {
      for (unsigned l = level; l < usage.size(); ++l) {
        if (l == usage.size() - 1 && !Arith::uncharge_reaches_root()) break;
        auto cancel = Arith::template level_cancel<D>(usage[l], nr_pages);
        usage[l] = cancel.usage;
        warned = warned || cancel.underflow.expr();
      }
    };
    auto describe = [](const z3::model& m, const std::vector<U>& u) {
      return fmt::format("usage C={} P={} R={}", model_value(m, u[0]), model_value(m, u[1]), model_value(m, u[2]));
    };
    auto equal = [](const U& a, const U& b) { return (a == b).expr(); };
    const U max_stocks = D::lit64(stock_model::kMaxCpus * kChargeBatchPages);
    {
      // The move itself changes no counter: while C was online its usage was
      // its stocks plus its objcgs' pages and P's was P's own plus C's.
      auto stocks = D::var64("move_child_stock_pages");
      auto objcg_pages = D::var64("move_child_objcg_pages");
      auto parent_own = D::var64("move_parent_own_pages");
      auto root_own = D::var64("move_root_own_pages");
      U child = stocks + objcg_pages;
      U parent = parent_own + child;
      std::vector<U> usage{child, parent, root_own + parent};
      auto assumptions = below_max({root_own, parent_own, stocks, objcg_pages}) && (stocks <= max_stocks).expr();
      auto parent_held = parent_own + objcg_pages;  // memcg_reparent_objcgs: the objcgs now point at P
      auto claim = all_of({equal(usage[1], parent_held + stocks), equal(usage[2], root_own + parent_held + stocks),
                           equal(usage[0], stocks + objcg_pages)});
      auto explain = [=](const z3::model& m) { return "reparent: " + describe(m, usage); };
      obligations.push_back({"reparent", assumptions, claim, explain, std::nullopt});
    }
    {
      // drain_all_stock(C): drain_stock on one CPU caching C (the others follow alike).
      auto stock = D::zext(D::var32("drain_stock_pages"));
      auto other_stocks = D::var64("drain_other_stock_pages");
      auto parent_held = D::var64("drain_parent_held_pages");
      auto stale = D::var64("drain_child_stale_pages");
      auto root_own = D::var64("drain_root_own_pages");
      std::vector<U> usage{stock + other_stocks + stale, parent_held + stock + other_stocks,
                           root_own + parent_held + stock + other_stocks};
      auto assumptions = below_max({stock, other_stocks, stale}) && below_max({root_own, parent_held, stock, other_stocks}) &&
                         (stock <= D::lit64(kChargeBatchPages)).expr() && (other_stocks <= max_stocks).expr();
      std::vector<U> after = usage;
      z3::expr warned = z3_context().bool_val(false);
      uncharge_from(after, 0, stock, warned);
      auto claim = all_of({equal(after[1], parent_held + other_stocks),
                           equal(after[2], root_own + parent_held + other_stocks),
                           equal(after[0], other_stocks + stale), !warned});
      auto explain = [=](const z3::model& m) {
        return fmt::format("drain_stock of {} pages cached for C: {} -> {}; WARN {}", model_value(m, stock),
                           describe(m, usage), describe(m, after), model_value(m, warned));
      };
      obligations.push_back({"drain_all_stock(child)", assumptions, claim, explain, std::nullopt});
    }
    {
      // The reparented objcgs uncharge through P (refill_stock(P) and its drain).
      // objcg_pages = uncharged + kept: the uncharge is at most what the
      // reparented objcgs hold, by construction.
      auto uncharged = D::var64("uncharge_pages");
      auto kept = D::var64("uncharge_objcg_pages_kept");
      U objcg_pages = uncharged + kept;
      auto parent_own = D::var64("uncharge_parent_own_pages");
      auto child_stocks = D::var64("uncharge_child_stock_pages");
      auto stale = D::var64("uncharge_child_stale_pages");
      auto root_own = D::var64("uncharge_root_own_pages");
      std::vector<U> usage{child_stocks + stale, parent_own + objcg_pages + child_stocks,
                           root_own + parent_own + objcg_pages + child_stocks};
      auto assumptions = below_max({child_stocks, stale}) &&
                         below_max({root_own, parent_own, uncharged, kept, child_stocks}) &&
                         (child_stocks <= max_stocks).expr();
      std::vector<U> after = usage;
      z3::expr warned = z3_context().bool_val(false);
      uncharge_from(after, 1, uncharged, warned);
      // Each counter against the pages its subtree holds (R's subtree is
      // R's own pages and P's).
      auto claim = all_of({equal(after[1], parent_own + kept + child_stocks),
                           equal(after[2], root_own + parent_own + kept + child_stocks), equal(after[0], usage[0]),
                           !warned});
      auto explain = [=](const z3::model& m) {
        return fmt::format("uncharging {} reparented objcg pages via P: {} -> {}; WARN {}", model_value(m, uncharged),
                           describe(m, usage), describe(m, after), model_value(m, warned));
      };
      obligations.push_back({"uncharge via parent", assumptions, claim, explain, std::nullopt});
    }
    return obligations;
  });
}

}  // namespace mv::proofs
