// Both instantiations of the one arithmetic source agree bit for bit.
//
// Every template in arith/*.h (and every Domain operation) is evaluated on
// random inputs in MachineDomain and in Z3Domain: the Z3 side is built once
// over symbolic inputs, exactly as the lemmas see it, then the inputs are
// substituted by constants and the expression simplified to a numeral. A test
// also reads arith/*.h and fails if a template has no case here.
//
// Seed: MV_SEED from the environment, else a fixed default; always printed.
#include <gtest/gtest.h>

#include <cstdint>
#include <cstdlib>
#include <fstream>
#include <functional>
#include <iostream>
#include <map>
#include <random>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "arith/domain.h"
#include "arith/kmem_size.h"
#include "arith/obj_stock.h"
#include "arith/page_counter.h"
#include "arith/page_stock.h"
#include "proofs/z3_domain.h"

namespace {

using mv::arith::M;
using mv::arith::PageGeometry;
using mv::proofs::Z3Domain;
namespace arith = mv::arith;

constexpr int kIterationsPerCase = 400;
constexpr std::uint64_t kPageSizes[] = {4096, 16384, 65536};

std::uint64_t seed() {
  static const std::uint64_t value = [] {
    const char* env = std::getenv("MV_SEED");
    std::uint64_t s = env ? std::strtoull(env, nullptr, 0) : 0x6d656d6367ull;
    std::cout << "arith_agreement_test seed: " << s << " (replay: MV_SEED=" << s << ")\n";
    return s;
  }();
  return value;
}

// Input kinds of a case: an unsigned int, an unsigned long, a truth value.
enum class Kind { u32, u64, boolean };

// Inputs as each domain sees them.
template <class D>
struct Args;
template <>
struct Args<M> {
  std::vector<std::uint64_t> raw;
  M::u32 u32(std::size_t i) const { return M::lit32(static_cast<std::uint32_t>(raw.at(i))); }
  M::u64 u64(std::size_t i) const { return M::lit64(raw.at(i)); }
  M::boolean b(std::size_t i) const { return M::lit_bool(raw.at(i) != 0); }
};
template <>
struct Args<Z3Domain> {
  std::vector<z3::expr> vars;
  Z3Domain::u32 u32(std::size_t i) const { return Z3Domain::u32(vars.at(i)); }
  Z3Domain::u64 u64(std::size_t i) const { return Z3Domain::u64(vars.at(i)); }
  Z3Domain::boolean b(std::size_t i) const { return Z3Domain::boolean(vars.at(i)); }
};

// Results as each domain produces them.
template <class D>
struct Outs;
template <>
struct Outs<M> {
  std::vector<std::uint64_t> values;
  void put(M::u32 x) { values.push_back(x.v); }
  void put(M::u64 x) { values.push_back(x.v); }
  void put(M::boolean x) { values.push_back(x.v ? 1 : 0); }
};
template <>
struct Outs<Z3Domain> {
  std::vector<z3::expr> values;
  void put(const Z3Domain::u32& x) { values.push_back(x.expr()); }
  void put(const Z3Domain::u64& x) { values.push_back(x.expr()); }
  void put(const Z3Domain::boolean& x) { values.push_back(x.expr()); }
};

struct Case {
  std::string name;  // the arith template or domain operation it covers
  std::vector<Kind> inputs;
  std::function<void(const Args<M>&, Outs<M>&, PageGeometry)> machine;
  std::function<void(const Args<Z3Domain>&, Outs<Z3Domain>&, PageGeometry)> symbolic;
};

// One generic body, instantiated in both domains.
template <class Body>
Case make_case(std::string name, std::vector<Kind> inputs, Body body) {
  return Case{std::move(name), std::move(inputs),
              [body](const Args<M>& a, Outs<M>& o, PageGeometry p) { body.template operator()<M>(a, o, p); },
              [body](const Args<Z3Domain>& a, Outs<Z3Domain>& o, PageGeometry p) {
                body.template operator()<Z3Domain>(a, o, p);
              }};
}

using K = Kind;

std::vector<Case> all_cases() {
  std::vector<Case> cases;
  auto add = [&](std::string name, std::vector<Kind> in, auto body) {
    cases.push_back(make_case(std::move(name), std::move(in), body));
  };
  // The Domain operations themselves, at both widths.
  add("op+", {K::u32, K::u32, K::u64, K::u64}, []<class D>(const Args<D>& a, Outs<D>& o, PageGeometry) {
    o.put(a.u32(0) + a.u32(1)); o.put(a.u64(2) + a.u64(3)); });
  add("op-", {K::u32, K::u32, K::u64, K::u64}, []<class D>(const Args<D>& a, Outs<D>& o, PageGeometry) {
    o.put(a.u32(0) - a.u32(1)); o.put(a.u64(2) - a.u64(3)); });
  add("op*", {K::u32, K::u32, K::u64, K::u64}, []<class D>(const Args<D>& a, Outs<D>& o, PageGeometry) {
    o.put(a.u32(0) * a.u32(1)); o.put(a.u64(2) * a.u64(3)); });
  add("op&|~", {K::u32, K::u32, K::u64, K::u64}, []<class D>(const Args<D>& a, Outs<D>& o, PageGeometry) {
    o.put(a.u32(0) & a.u32(1)); o.put(a.u64(2) & a.u64(3));
    o.put(a.u32(0) | a.u32(1)); o.put(a.u64(2) | a.u64(3));
    o.put(~a.u32(0)); o.put(~a.u64(2)); });
  add("op>><<", {K::u32, K::u64}, []<class D>(const Args<D>& a, Outs<D>& o, PageGeometry p) {
    o.put(a.u32(0) >> p.shift); o.put(a.u64(1) >> p.shift);
    o.put(a.u32(0) << p.shift); o.put(a.u64(1) << p.shift);
    o.put(a.u32(0) >> 31); o.put(a.u64(1) >> 63); o.put(a.u64(1) >> 1); });
  add("op-compare", {K::u32, K::u32, K::u64, K::u64}, []<class D>(const Args<D>& a, Outs<D>& o, PageGeometry) {
    o.put(a.u32(0) < a.u32(1)); o.put(a.u32(0) <= a.u32(1)); o.put(a.u32(0) > a.u32(1));
    o.put(a.u32(0) >= a.u32(1)); o.put(a.u32(0) == a.u32(1)); o.put(a.u32(0) != a.u32(1));
    o.put(a.u64(2) < a.u64(3)); o.put(a.u64(2) <= a.u64(3)); o.put(a.u64(2) > a.u64(3));
    o.put(a.u64(2) >= a.u64(3)); o.put(a.u64(2) == a.u64(3)); o.put(a.u64(2) != a.u64(3)); });
  add("op-bool", {K::boolean, K::boolean}, []<class D>(const Args<D>& a, Outs<D>& o, PageGeometry) {
    o.put(a.b(0) && a.b(1)); o.put(a.b(0) || a.b(1)); o.put(!a.b(0)); });
  add("trunc32/zext", {K::u64, K::u32}, []<class D>(const Args<D>& a, Outs<D>& o, PageGeometry) {
    o.put(D::trunc32(a.u64(0))); o.put(D::zext(a.u32(1))); });
  add("is_negative", {K::u64}, []<class D>(const Args<D>& a, Outs<D>& o, PageGeometry) {
    o.put(D::is_negative(a.u64(0))); });
  add("select/max", {K::boolean, K::u32, K::u32, K::u64, K::u64},
      []<class D>(const Args<D>& a, Outs<D>& o, PageGeometry) {
        o.put(D::select(a.b(0), a.u32(1), a.u32(2))); o.put(D::select(a.b(0), a.u64(3), a.u64(4)));
        o.put(D::select(a.b(0), a.b(0), !a.b(0)));
        o.put(D::max(a.u32(1), a.u32(2))); o.put(D::max(a.u64(3), a.u64(4))); });
  add("lit", {}, []<class D>(const Args<D>&, Outs<D>& o, PageGeometry) {
    o.put(D::lit32(0xdeadbeefu)); o.put(D::lit64(0xfeedfacecafebeefull)); o.put(D::lit_bool(true)); });

  // arith/obj_stock.h
  add("obj_charge_split", {K::u64}, []<class D>(const Args<D>& a, Outs<D>& o, PageGeometry p) {
    auto s = arith::obj_charge_split<D>(a.u64(0), p); o.put(s.nr_pages); o.put(s.nr_bytes); });
  add("charge_tail_bytes", {K::u32}, []<class D>(const Args<D>& a, Outs<D>& o, PageGeometry p) {
    o.put(arith::charge_tail_bytes<D>(a.u32(0), p)); });
  add("consume_request_bytes", {K::u64}, []<class D>(const Args<D>& a, Outs<D>& o, PageGeometry) {
    o.put(arith::consume_request_bytes<D>(a.u64(0))); });
  add("obj_stock_covers", {K::u32, K::u32}, []<class D>(const Args<D>& a, Outs<D>& o, PageGeometry) {
    o.put(arith::obj_stock_covers<D>(a.u32(0), a.u32(1))); });
  add("obj_stock_consume", {K::u32, K::u32}, []<class D>(const Args<D>& a, Outs<D>& o, PageGeometry) {
    o.put(arith::obj_stock_consume<D>(a.u32(0), a.u32(1))); });
  add("obj_stock_refill", {K::u32, K::u32, K::boolean}, []<class D>(const Args<D>& a, Outs<D>& o, PageGeometry p) {
    auto r = arith::obj_stock_refill<D>(a.u32(0), a.u32(1), a.b(2), p);
    o.put(r.stock_nr_bytes); o.put(r.nr_pages); });
  add("obj_stock_refill_whole_stock", {K::u32, K::u32}, []<class D>(const Args<D>& a, Outs<D>& o, PageGeometry p) {
    auto r = arith::obj_stock_refill_whole_stock<D>(a.u32(0), a.u32(1), p);
    o.put(r.stock_nr_bytes); o.put(r.drain); });
  add("obj_stock_drain_split", {K::u32}, []<class D>(const Args<D>& a, Outs<D>& o, PageGeometry p) {
    auto r = arith::obj_stock_drain_split<D>(a.u32(0), p); o.put(r.nr_pages); o.put(r.nr_bytes); });
  add("charged_bytes_add", {K::u32, K::u32}, []<class D>(const Args<D>& a, Outs<D>& o, PageGeometry) {
    o.put(arith::charged_bytes_add<D>(a.u32(0), a.u32(1))); });
  add("obj_release_split", {K::u32}, []<class D>(const Args<D>& a, Outs<D>& o, PageGeometry p) {
    auto r = arith::obj_release_split<D>(a.u32(0), p); o.put(r.nr_pages); o.put(r.aligned); });

  // arith/page_stock.h
  add("page_stock_covers", {K::u32, K::u32}, []<class D>(const Args<D>& a, Outs<D>& o, PageGeometry) {
    o.put(arith::page_stock_covers<D>(a.u32(0), a.u32(1), 64)); o.put(arith::page_stock_covers<D>(a.u32(0), a.u32(1), 32)); });
  add("page_stock_consume", {K::u32, K::u32}, []<class D>(const Args<D>& a, Outs<D>& o, PageGeometry) {
    o.put(arith::page_stock_consume<D>(a.u32(0), a.u32(1))); });
  add("page_stock_refill", {K::u32, K::u32}, []<class D>(const Args<D>& a, Outs<D>& o, PageGeometry) {
    auto r = arith::page_stock_refill<D>(a.u32(0), a.u32(1), 64); o.put(r.stock_nr_pages); o.put(r.drain); });
  add("charge_batch", {K::u32}, []<class D>(const Args<D>& a, Outs<D>& o, PageGeometry) {
    o.put(arith::charge_batch<D>(a.u32(0), 64)); o.put(arith::charge_batch<D>(a.u32(0), 32)); });
  add("restock_pages", {K::u32, K::u32}, []<class D>(const Args<D>& a, Outs<D>& o, PageGeometry) {
    o.put(arith::restock_pages<D>(a.u32(0), a.u32(1))); });

  // arith/page_counter.h
  add("level_try_charge", {K::u64, K::u64, K::u64}, []<class D>(const Args<D>& a, Outs<D>& o, PageGeometry) {
    auto r = arith::level_try_charge<D>(a.u64(0), a.u64(1), a.u64(2)); o.put(r.usage); o.put(r.over_max); });
  add("level_cancel", {K::u64, K::u64}, []<class D>(const Args<D>& a, Outs<D>& o, PageGeometry) {
    auto r = arith::level_cancel<D>(a.u64(0), a.u64(1)); o.put(r.usage); o.put(r.underflow); });
  add("page_counter_max", {}, []<class D>(const Args<D>&, Outs<D>& o, PageGeometry p) {
    o.put(arith::page_counter_max<D>(p)); });
  add("page_counter_clamp_max", {K::u64}, []<class D>(const Args<D>& a, Outs<D>& o, PageGeometry p) {
    o.put(arith::page_counter_clamp_max<D>(a.u64(0), p)); });
  add("level_charge", {K::u64, K::u64}, []<class D>(const Args<D>& a, Outs<D>& o, PageGeometry) {
    o.put(arith::level_charge<D>(a.u64(0), a.u64(1))); });
  add("watermark_after", {K::u64, K::u64}, []<class D>(const Args<D>& a, Outs<D>& o, PageGeometry) {
    o.put(arith::watermark_after<D>(a.u64(0), a.u64(1))); });
  add("max_below_usage", {K::u64, K::u64}, []<class D>(const Args<D>& a, Outs<D>& o, PageGeometry) {
    o.put(arith::max_below_usage<D>(a.u64(0), a.u64(1))); });

  // arith/kmem_size.h
  add("slab_obj_full_size", {K::u64}, []<class D>(const Args<D>& a, Outs<D>& o, PageGeometry) {
    o.put(arith::slab_obj_full_size<D>(a.u64(0))); });
  add("pcpu_aligned_size", {K::u64}, []<class D>(const Args<D>& a, Outs<D>& o, PageGeometry) {
    o.put(arith::pcpu_aligned_size<D>(a.u64(0))); });
  add("pcpu_obj_full_size", {K::u64}, []<class D>(const Args<D>& a, Outs<D>& o, PageGeometry) {
    for (std::uint32_t ncpus : {1u, 2u, 3u, 4u, 64u, 8192u}) o.put(arith::pcpu_obj_full_size<D>(a.u64(0), ncpus)); });
  add("pcpu_obj_full_size_v5_9", {K::u64}, []<class D>(const Args<D>& a, Outs<D>& o, PageGeometry) {
    for (std::uint32_t ncpus : {1u, 2u, 3u, 4u, 64u, 8192u}) o.put(arith::pcpu_obj_full_size_v5_9<D>(a.u64(0), ncpus)); });
  add("kmem_page_nr_pages", {}, []<class D>(const Args<D>&, Outs<D>& o, PageGeometry) {
    for (std::uint32_t order = 0; order < 11; ++order) o.put(arith::kmem_page_nr_pages<D>(order)); });
  add("kmem_pages_bytes", {K::u32}, []<class D>(const Args<D>& a, Outs<D>& o, PageGeometry p) {
    o.put(arith::kmem_pages_bytes<D>(a.u32(0), p)); });
  return cases;
}

// Values where kernel arithmetic changes behaviour, plus uniform noise.
std::uint64_t draw(std::mt19937_64& rng, Kind kind, PageGeometry page) {
  if (kind == Kind::boolean) return rng() & 1;
  const std::uint64_t p = page.size_bytes;
  const std::uint64_t edges[] = {0, 1, 2, 7, 8, 63, 64, 65, p - 2, p - 1, p, p + 1, 2 * p - 2, 2 * p,
                                 0x7fffffffull, 0x80000000ull, 0xffffffffull, 0x100000000ull,
                                 0x100000001ull, (0xffffffffull * p), (0xffffffffull * p) + 1,
                                 0x7fffffffffffffffull, 0x8000000000000000ull, ~0ull};
  std::uint64_t x;
  switch (rng() % 4) {
    case 0: x = edges[rng() % std::size(edges)]; break;
    case 1: x = rng() % (4 * p); break;                          // a few pages
    case 2: x = (rng() % 0x100000) * p + (rng() % 3) - 1; break;  // near a page multiple
    default: x = rng(); break;
  }
  return kind == Kind::u32 ? (x & 0xffffffffull) : x;
}

z3::expr numeral(Kind kind, std::uint64_t x) {
  auto& ctx = mv::proofs::z3_context();
  switch (kind) {
    case Kind::boolean: return ctx.bool_val(x != 0);
    case Kind::u32: return ctx.bv_val(x, 32);
    default: return ctx.bv_val(x, 64);
  }
}

// z3::expr::substitute is not const in 4.8.12: take a copy.
z3::expr substituted(z3::expr e, z3::expr_vector& from, z3::expr_vector& to) { return e.substitute(from, to); }

std::uint64_t value_of(const z3::expr& e) {
  z3::expr v = e.simplify();
  if (v.is_bool()) {
    if (!v.is_true() && !v.is_false()) throw std::runtime_error("did not evaluate: " + v.to_string());
    return v.is_true() ? 1 : 0;
  }
  if (!v.is_numeral()) throw std::runtime_error("did not evaluate: " + v.to_string());
  return v.get_numeral_uint64();
}

TEST(ArithAgreement, MachineAndZ3AgreeOnRandomInputs) {
  std::mt19937_64 rng(seed());
  auto& ctx = mv::proofs::z3_context();
  int compared = 0;
  for (const Case& c : all_cases()) {
    for (std::uint64_t page_size : kPageSizes) {
      PageGeometry page = PageGeometry::of(page_size);
      Args<Z3Domain> sym;
      z3::expr_vector vars(ctx);
      for (std::size_t i = 0; i < c.inputs.size(); ++i) {
        auto name = "in" + std::to_string(i);
        auto v = c.inputs[i] == Kind::boolean ? ctx.bool_const(name.c_str())
                 : ctx.bv_const(name.c_str(), c.inputs[i] == Kind::u32 ? 32 : 64);
        sym.vars.push_back(v);
        vars.push_back(v);
      }
      Outs<Z3Domain> sym_out;
      c.symbolic(sym, sym_out, page);
      const int iterations = c.inputs.empty() ? 1 : kIterationsPerCase;
      for (int it = 0; it < iterations; ++it) {
        Args<M> in;
        z3::expr_vector values(ctx);
        for (Kind k : c.inputs) {
          in.raw.push_back(draw(rng, k, page));
          values.push_back(numeral(k, in.raw.back()));
        }
        Outs<M> machine_out;
        c.machine(in, machine_out, page);
        ASSERT_EQ(machine_out.values.size(), sym_out.values.size()) << c.name;
        for (std::size_t j = 0; j < machine_out.values.size(); ++j) {
          z3::expr concrete = sym_out.values[j];
          std::uint64_t z3_value = value_of(vars.empty() ? concrete : substituted(concrete, vars, values));
          std::ostringstream inputs;
          for (auto x : in.raw) inputs << x << ' ';
          ASSERT_EQ(machine_out.values[j], z3_value)
              << c.name << " output " << j << " PAGE_SIZE=" << page_size << " inputs: " << inputs.str()
              << " seed " << seed();
          ++compared;
        }
      }
    }
  }
  std::cout << "compared " << compared << " results\n";
  EXPECT_GT(compared, 10000);
}

// The ILP32 instantiation agrees with machine arithmetic on 32-bit unsigned long.
TEST(ArithAgreement, Ilp32LongWrapsLikeUint32) {
  using D32 = mv::proofs::Z3Domain32;
  std::mt19937_64 rng(seed() ^ 0x32);
  auto& ctx = mv::proofs::z3_context();
  z3::expr x = ctx.bv_const("x", 32), y = ctx.bv_const("y", 32);
  PageGeometry page = PageGeometry::of(4096);
  auto cancel = arith::level_cancel<D32>(D32::u64(x), D32::u64(y));
  auto split = arith::obj_charge_split<D32>(D32::u64(x), page);
  for (int it = 0; it < 2000; ++it) {
    std::uint32_t a = static_cast<std::uint32_t>(draw(rng, Kind::u32, page));
    std::uint32_t b = static_cast<std::uint32_t>(draw(rng, Kind::u32, page));
    z3::expr_vector from(ctx), to(ctx);
    from.push_back(x); from.push_back(y);
    to.push_back(ctx.bv_val(a, 32)); to.push_back(ctx.bv_val(b, 32));
    std::uint32_t diff = a - b;
    bool negative = (diff >> 31) != 0;
    ASSERT_EQ(value_of(substituted(cancel.usage.expr(), from, to)), negative ? 0u : diff) << a << ' ' << b;
    ASSERT_EQ(value_of(substituted(cancel.underflow.expr(), from, to)), negative ? 1u : 0u);
    std::uint32_t nr_bytes = a & 4095u;
    ASSERT_EQ(value_of(substituted(split.nr_pages.expr(), from, to)), (a >> 12) + (nr_bytes ? 1u : 0u));
    ASSERT_EQ(value_of(substituted(split.nr_bytes.expr(), from, to)), nr_bytes);
  }
}

// Every template function in arith/*.h has a case above: a new template
// without one fails here rather than going unchecked.
TEST(ArithAgreement, EveryArithTemplateIsCovered) {
  std::set<std::string> covered;
  for (const Case& c : all_cases()) covered.insert(c.name);
  const std::regex template_fn(R"(template <class D>\s*\n[^\n(]*?\b(\w+)\()");
  int found = 0;
  for (const char* header : {"arith/obj_stock.h", "arith/page_stock.h", "arith/page_counter.h",
                             "arith/kmem_size.h"}) {
    std::ifstream in(std::string(MV_SOURCE_DIR) + "/" + header);
    ASSERT_TRUE(in) << header;
    std::stringstream text;
    text << in.rdbuf();
    std::string s = text.str();
    for (std::sregex_iterator it(s.begin(), s.end(), template_fn), end; it != end; ++it) {
      std::string name = (*it)[1];
      ++found;
      EXPECT_TRUE(covered.count(name)) << header << ": template " << name << " has no agreement case";
    }
  }
  EXPECT_GE(found, 20);
}

}  // namespace
