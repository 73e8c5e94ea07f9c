// The operations layer under the one arithmetic source.
//
// Every piece of kernel byte/page arithmetic (arith/*.h) is a template over a
// Domain D. MachineDomain (here) runs it on fixed-width unsigned integers, for
// impl/ and reference/; proofs/z3_domain.h runs the same templates on Z3
// bit-vectors. The word types are deliberately strict so that the Z3 4.8.12
// traps cannot be written in a template:
//   - a comparison yields D::boolean, never bool: branching must go through
//     D::select (Z3's boolean has no conversion to bool at all);
//   - `>>` and `<` are the unsigned kernel operations, `/` and `%` do not exist;
//   - u32 and u64 never mix implicitly: widen with D::zext, narrow with D::trunc32,
//     exactly where the kernel's C conversions happen.
#pragma once

#include <cstdint>
#include <type_traits>

namespace mv::arith {

// A truth value computed by kernel arithmetic on machine words.
struct MBool {
  bool v;
  constexpr explicit MBool(bool x) : v(x) {}
  constexpr explicit operator bool() const { return v; }
  friend constexpr MBool operator&&(MBool a, MBool b) { return MBool(a.v && b.v); }
  friend constexpr MBool operator||(MBool a, MBool b) { return MBool(a.v || b.v); }
  friend constexpr MBool operator!(MBool a) { return MBool(!a.v); }
  friend constexpr bool operator==(MBool, MBool) = default;
};

// An unsigned kernel integer of one width (unsigned int, unsigned long, size_t).
template <class Raw>
struct Word {
  static_assert(std::is_unsigned_v<Raw>);
  Raw v;
  constexpr explicit Word(Raw x) : v(x) {}

  friend constexpr Word operator+(Word a, Word b) { return Word(Raw(a.v + b.v)); }
  friend constexpr Word operator-(Word a, Word b) { return Word(Raw(a.v - b.v)); }
  friend constexpr Word operator*(Word a, Word b) { return Word(Raw(a.v * b.v)); }
  friend constexpr Word operator&(Word a, Word b) { return Word(Raw(a.v & b.v)); }
  friend constexpr Word operator|(Word a, Word b) { return Word(Raw(a.v | b.v)); }
  friend constexpr Word operator~(Word a) { return Word(Raw(~a.v)); }
  friend constexpr Word operator>>(Word a, unsigned k) { return Word(Raw(a.v >> k)); }
  friend constexpr Word operator<<(Word a, unsigned k) { return Word(Raw(a.v << k)); }
  friend constexpr MBool operator==(Word a, Word b) { return MBool(a.v == b.v); }
  friend constexpr MBool operator!=(Word a, Word b) { return MBool(a.v != b.v); }
  friend constexpr MBool operator<(Word a, Word b) { return MBool(a.v < b.v); }
  friend constexpr MBool operator<=(Word a, Word b) { return MBool(a.v <= b.v); }
  friend constexpr MBool operator>(Word a, Word b) { return MBool(a.v > b.v); }
  friend constexpr MBool operator>=(Word a, Word b) { return MBool(a.v >= b.v); }
  // No operator/ and operator%: the kernel code modeled here never divides by
  // a variable, and Z3's default bit-vector division is signed.
};

struct MachineDomain {
  using u32 = Word<std::uint32_t>;  // unsigned int, atomic_t read as unsigned
  using u64 = Word<std::uint64_t>;  // size_t, unsigned long, atomic_long_t
  using boolean = MBool;

  static constexpr u32 lit32(std::uint32_t x) { return u32(x); }
  static constexpr u64 lit64(std::uint64_t x) { return u64(x); }
  static constexpr boolean lit_bool(bool x) { return MBool(x); }
  // C's implicit size_t -> unsigned int conversion: keeps the low 32 bits.
  static constexpr u32 trunc32(u64 x) { return u32(static_cast<std::uint32_t>(x.v)); }
  static constexpr u64 zext(u32 x) { return u64(x.v); }
  // `(long)x < 0` for an atomic_long_t read back as unsigned long.
  static constexpr boolean is_negative(u64 x) { return MBool((x.v >> 63) != 0); }
  template <class T>
  static constexpr T select(boolean c, T a, T b) { return c.v ? a : b; }
  template <class T>
  static constexpr T max(T a, T b) { return select(a >= b, a, b); }
};

using M = MachineDomain;

// PAGE_SIZE and PAGE_SHIFT of one configuration. Concrete in every domain: a
// proof is run once per page size rather than over a symbolic page size.
struct PageGeometry {
  std::uint64_t size_bytes;
  unsigned shift;

  static constexpr bool valid_size(std::uint64_t size_bytes) {
    return size_bytes >= 4096 && (size_bytes & (size_bytes - 1)) == 0;
  }
  static constexpr PageGeometry of(std::uint64_t size_bytes) {
    unsigned shift = 0;
    while ((std::uint64_t{1} << shift) < size_bytes) ++shift;
    return PageGeometry{size_bytes, shift};
  }
  constexpr std::uint64_t mask() const { return size_bytes - 1; }
};

}  // namespace mv::arith
