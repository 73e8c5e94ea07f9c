// Z3Domain: the arith/*.h templates over Z3 bit-vectors, so the lemmas in
// proofs/ are about the code that runs (docs/DESIGN.md "One arithmetic source").
//
// Same interface as arith::MachineDomain. The Z3 4.8.12 traps are closed by
// construction: words and booleans wrap a z3::expr privately and convert to
// nothing (z3::expr would silently become a non-null Z3_ast pointer, i.e.
// `true`, and `a >> 3` would become the integer 0); `>>` is lshr, `<` is ult,
// and there is no `/` or `%` (Z3's default bit-vector division is signed).
//
// Z3DomainOf<LongBits>: D::u32 is the kernel's unsigned int (32 bits); D::u64
// is its unsigned long / size_t / atomic_long_t, LongBits wide: 64 on an LP64
// kernel (Z3Domain), 32 on an ILP32 kernel (Z3Domain32).
#pragma once

#include <z3++.h>

#include <cstdint>
#include <stdexcept>
#include <string>
#include <type_traits>

#include "arith/domain.h"

namespace mv::proofs {

// The context every Z3Domain value lives in: one per thread, so lemmas may run
// on several threads.
inline z3::context& z3_context() {
  thread_local z3::context ctx;
  return ctx;
}

// A truth value over Z3 bit-vectors. No conversion to bool: a template that
// branches on kernel arithmetic must use D::select.
class Z3Bool {
 public:
  explicit Z3Bool(z3::expr e) : e_(std::move(e)) {
    if (!e_.is_bool()) throw std::logic_error("Z3Bool over a non-boolean expression");
  }
  const z3::expr& expr() const { return e_; }

  friend Z3Bool operator&&(const Z3Bool& a, const Z3Bool& b) { return Z3Bool(a.e_ && b.e_); }
  friend Z3Bool operator||(const Z3Bool& a, const Z3Bool& b) { return Z3Bool(a.e_ || b.e_); }
  friend Z3Bool operator!(const Z3Bool& a) { return Z3Bool(!a.e_); }

 private:
  z3::expr e_;
};

struct IntTag {};   // unsigned int
struct LongTag {};  // unsigned long, size_t

// An unsigned kernel integer of Bits bits. The tag keeps unsigned int and an
// ILP32 unsigned long distinct types even though both are 32 bits wide.
template <unsigned Bits, class Tag>
class Z3Word {
 public:
  static constexpr unsigned bits = Bits;

  explicit Z3Word(z3::expr e) : e_(std::move(e)) {
    if (!e_.is_bv() || e_.get_sort().bv_size() != Bits)
      throw std::logic_error("Z3Word of the wrong width: " + e_.to_string());
  }
  const z3::expr& expr() const { return e_; }

  friend Z3Word operator+(const Z3Word& a, const Z3Word& b) { return Z3Word(a.e_ + b.e_); }
  friend Z3Word operator-(const Z3Word& a, const Z3Word& b) { return Z3Word(a.e_ - b.e_); }
  friend Z3Word operator*(const Z3Word& a, const Z3Word& b) { return Z3Word(a.e_ * b.e_); }
  friend Z3Word operator&(const Z3Word& a, const Z3Word& b) { return Z3Word(a.e_ & b.e_); }
  friend Z3Word operator|(const Z3Word& a, const Z3Word& b) { return Z3Word(a.e_ | b.e_); }
  friend Z3Word operator~(const Z3Word& a) { return Z3Word(~a.e_); }
  // Shifts by a constant, as in the kernel (PAGE_SHIFT, PCPU_MIN_ALLOC_SHIFT).
  friend Z3Word operator>>(const Z3Word& a, unsigned k) {
    return Z3Word(z3::lshr(a.e_, a.e_.ctx().bv_val(shift_amount(k), Bits)));
  }
  friend Z3Word operator<<(const Z3Word& a, unsigned k) {
    return Z3Word(z3::shl(a.e_, a.e_.ctx().bv_val(shift_amount(k), Bits)));
  }
  friend Z3Bool operator==(const Z3Word& a, const Z3Word& b) { return Z3Bool(a.e_ == b.e_); }
  friend Z3Bool operator!=(const Z3Word& a, const Z3Word& b) { return Z3Bool(a.e_ != b.e_); }
  friend Z3Bool operator<(const Z3Word& a, const Z3Word& b) { return Z3Bool(z3::ult(a.e_, b.e_)); }
  friend Z3Bool operator<=(const Z3Word& a, const Z3Word& b) { return Z3Bool(z3::ule(a.e_, b.e_)); }
  friend Z3Bool operator>(const Z3Word& a, const Z3Word& b) { return Z3Bool(z3::ugt(a.e_, b.e_)); }
  friend Z3Bool operator>=(const Z3Word& a, const Z3Word& b) { return Z3Bool(z3::uge(a.e_, b.e_)); }
  // No operator/ and operator%, as in MachineDomain.

 private:
  static std::uint64_t shift_amount(unsigned k) {
    // C leaves a shift by >= the width undefined; no kernel shift here does it.
    if (k >= Bits) throw std::logic_error("shift by >= the word width");
    return k;
  }
  z3::expr e_;
};

template <unsigned LongBits>
struct Z3DomainOf {
  static_assert(LongBits == 32 || LongBits == 64);
  static constexpr unsigned long_bits = LongBits;

  using u32 = Z3Word<32, IntTag>;
  using u64 = Z3Word<LongBits, LongTag>;
  using boolean = Z3Bool;

  static u32 lit32(std::uint32_t x) { return u32(z3_context().bv_val(std::uint64_t{x}, 32)); }
  static u64 lit64(std::uint64_t x) {
    if constexpr (LongBits < 64) {
      if (x >> LongBits) throw std::domain_error("literal does not fit an ILP32 unsigned long");
    }
    return u64(z3_context().bv_val(x, LongBits));
  }
  static boolean lit_bool(bool x) { return Z3Bool(z3_context().bool_val(x)); }

  // C's implicit unsigned long -> unsigned int conversion: keeps the low 32 bits.
  static u32 trunc32(const u64& x) {
    if constexpr (LongBits == 32) return u32(x.expr());
    else return u32(x.expr().extract(31, 0));
  }
  static u64 zext(const u32& x) {
    if constexpr (LongBits == 32) return u64(x.expr());
    else return u64(z3::zext(x.expr(), LongBits - 32));
  }
  // `(long)x < 0`: the top bit.
  static boolean is_negative(const u64& x) {
    return Z3Bool(x.expr().extract(LongBits - 1, LongBits - 1) == z3_context().bv_val(1, 1));
  }
  template <class T>
  static T select(const boolean& c, const T& a, const T& b) {
    return T(z3::ite(c.expr(), a.expr(), b.expr()));
  }
  template <class T>
  static T max(const T& a, const T& b) {
    return select(a >= b, a, b);
  }

  // Proof-only: fresh symbolic values, named for counterexamples.
  static u32 var32(const std::string& name) { return u32(z3_context().bv_const(name.c_str(), 32)); }
  static u64 var64(const std::string& name) {
    return u64(z3_context().bv_const(name.c_str(), LongBits));
  }
  static boolean var_bool(const std::string& name) {
    return Z3Bool(z3_context().bool_const(name.c_str()));
  }
};

using Z3Domain = Z3DomainOf<64>;    // LP64 kernel (x86_64, arm64)
using Z3Domain32 = Z3DomainOf<32>;  // ILP32 kernel (arm, i386): size_t is 32 bits

}  // namespace mv::proofs
