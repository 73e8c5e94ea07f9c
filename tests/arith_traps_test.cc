// The Z3 4.8.12 traps of docs/DESIGN.md cannot be written against either domain.
// Most checks are compile-time (a broken domain fails to build this file); the
// runtime tests pin the unsigned semantics the types promise.
#include <gtest/gtest.h>

#include <concepts>
#include <type_traits>

#include "arith/domain.h"
#include "proofs/z3_domain.h"

namespace {

using mv::arith::MachineDomain;
using mv::proofs::Z3Domain;
using mv::proofs::Z3Domain32;

template <class W>
constexpr bool has_divide = requires(W a, W b) { a / b; };
template <class W>
constexpr bool has_modulo = requires(W a, W b) { a % b; };
template <class W>
constexpr bool has_divide_by_int = requires(W a) { a / 3; };
template <class W>
constexpr bool has_modulo_by_int = requires(W a) { a % 3; };
template <class A, class B>
constexpr bool can_add = requires(A a, B b) { a + b; };
template <class A, class B>
constexpr bool can_compare = requires(A a, B b) { a < b; };
template <class T>
constexpr bool usable_as_condition = requires(T t) { t ? 1 : 2; };
template <class T>
constexpr bool castable_to_bool = requires(T t) { static_cast<bool>(t); };
template <class W>
constexpr bool has_word_shifts = requires(W a) {
  { a >> 3 } -> std::same_as<W>;
  { a >> 3u } -> std::same_as<W>;
  { a << 3 } -> std::same_as<W>;
};
template <class D, class W>
constexpr bool comparisons_yield_domain_boolean = requires(W a, W b) {
  { a < b } -> std::same_as<typename D::boolean>;
  { a <= b } -> std::same_as<typename D::boolean>;
  { a > b } -> std::same_as<typename D::boolean>;
  { a >= b } -> std::same_as<typename D::boolean>;
  { a == b } -> std::same_as<typename D::boolean>;
  { a != b } -> std::same_as<typename D::boolean>;
};
template <class W>
constexpr bool builds_from_int = std::is_convertible_v<int, W>;

template <class D>
constexpr bool domain_closes_traps() {
  using u32 = typename D::u32;
  using u64 = typename D::u64;
  static_assert(!has_divide<u32> && !has_divide<u64>, "no `/`: Z3's bvdiv default is signed");
  static_assert(!has_modulo<u32> && !has_modulo<u64>, "no `%`: Z3's bvrem default is signed");
  static_assert(!has_divide_by_int<u32> && !has_divide_by_int<u64>);
  static_assert(!has_modulo_by_int<u32> && !has_modulo_by_int<u64>);
  static_assert(has_word_shifts<u32> && has_word_shifts<u64>, "`a >> 3` must stay a word");
  static_assert(!can_add<u32, u64> && !can_add<u64, u32>, "u32 + u64: widen with D::zext");
  static_assert(!can_compare<u32, u64> && !can_compare<u64, u32>);
  static_assert(!can_add<u32, int> && !can_add<u64, unsigned long>, "literals via D::lit32/lit64");
  static_assert(!builds_from_int<u32> && !builds_from_int<u64>);
  static_assert(comparisons_yield_domain_boolean<D, u32>);
  static_assert(comparisons_yield_domain_boolean<D, u64>);
  static_assert(!std::is_convertible_v<u32, bool> && !std::is_convertible_v<u64, bool>);
  return true;
}

static_assert(domain_closes_traps<MachineDomain>());
static_assert(domain_closes_traps<Z3Domain>());
static_assert(domain_closes_traps<Z3Domain32>());

// The Z3 boolean has no way to a C++ bool: `if (a == b)` does not compile.
static_assert(!std::is_convertible_v<Z3Domain::boolean, bool>);
static_assert(!std::is_constructible_v<bool, Z3Domain::boolean>);
static_assert(!castable_to_bool<Z3Domain::boolean>);
static_assert(!usable_as_condition<Z3Domain::boolean>);
// Nor do the raw expressions leak out implicitly.
static_assert(!std::is_convertible_v<Z3Domain::u32, z3::expr>);
static_assert(!std::is_convertible_v<Z3Domain::boolean, z3::expr>);
// An ILP32 unsigned long is 32 bits wide but is still not an unsigned int.
static_assert(!std::is_same_v<Z3Domain32::u32, Z3Domain32::u64>);
// The machine boolean converts only explicitly (a template that branches on it
// still fails to instantiate with Z3Domain: arith_agreement_test instantiates all).
static_assert(!std::is_convertible_v<MachineDomain::boolean, bool>);

// The same checks on the raw z3::expr: the traps are real in 4.8.12, and the
// requires-expressions above do detect them (they are not vacuously false).
static_assert(std::is_convertible_v<z3::expr, bool>, "z3::expr -> Z3_ast -> bool");
static_assert(usable_as_condition<z3::expr>);
static_assert(has_divide<z3::expr> && has_modulo<z3::expr>);
static_assert(!has_word_shifts<z3::expr>, "`e >> 3` is not an expression: it is (bool)e >> 3");
static_assert(std::is_same_v<decltype(std::declval<z3::expr>() >> 3), int>);

bool simplifies_to_true(const Z3Domain::boolean& b) { return b.expr().simplify().is_true(); }

TEST(ArithTraps, Z3ComparisonsAreUnsigned) {
  auto top = Z3Domain::lit32(0x80000000u);
  auto one = Z3Domain::lit32(1);
  EXPECT_TRUE(simplifies_to_true(top > one));
  EXPECT_FALSE(simplifies_to_true(top < one));
  EXPECT_TRUE(simplifies_to_true(Z3Domain::lit64(~0ull) >= Z3Domain::lit64(0)));
  EXPECT_TRUE((MachineDomain::lit32(0x80000000u) > MachineDomain::lit32(1)) == MachineDomain::lit_bool(true));
}

TEST(ArithTraps, Z3ShiftIsLogical) {
  auto shifted = Z3Domain::lit32(0x80000000u) >> 31;
  EXPECT_EQ(shifted.expr().simplify().get_numeral_uint64(), 1u);
  auto shifted64 = Z3Domain::lit64(0x8000000000000000ull) >> 12;
  EXPECT_EQ(shifted64.expr().simplify().get_numeral_uint64(), 0x0008000000000000ull);
}

TEST(ArithTraps, Z3WordsCheckTheirWidth) {
  auto& ctx = mv::proofs::z3_context();
  EXPECT_THROW(Z3Domain::u32(ctx.bv_val(1, 64)), std::logic_error);
  EXPECT_THROW(Z3Domain::u64(ctx.bv_val(1, 32)), std::logic_error);
  EXPECT_THROW(Z3Domain::boolean(ctx.bv_val(1, 1)), std::logic_error);
  EXPECT_THROW(Z3Domain32::lit64(std::uint64_t{1} << 32), std::domain_error);
  EXPECT_THROW(Z3Domain::lit32(1) >> 32, std::logic_error);
}

TEST(ArithTraps, Z3Ilp32LongWrapsAt32Bits) {
  auto wrapped = Z3Domain32::lit64(0xffffffffu) + Z3Domain32::lit64(2);
  EXPECT_EQ(wrapped.expr().simplify().get_numeral_uint64(), 1u);
  EXPECT_TRUE(Z3Domain32::is_negative(Z3Domain32::lit64(0x80000000u)).expr().simplify().is_true());
}

}  // namespace
