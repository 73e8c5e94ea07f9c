// The compact operation encoding of fuzz_ops (fuzz/README.md): fuzzer bytes
// decode into a configuration and a list of operation recipes
// (properties/op_gen.h), whose arguments name tasks, objects, CPUs and cgroups
// BY INDEX into what exists when the recipe runs, exactly as the property
// generator's recipes do. So every byte string is a valid program: an index
// always lands on something that exists, and a recipe with nothing to act on
// is skipped by the step runner. A mutation of one byte changes one argument
// of one operation, which is what makes coverage guidance work on it.
//
//   byte 0          configuration: cpus = 1 + (b & 3), page size
//                   {4K, 16K, 64K, 4K}[(b >> 2) & 3] (v6.6)
//   then per op     6 bytes [kind a b c d e], at most kMaxOps of them; a
//                   trailing partial op is ignored
//
// `kind` maps to an OpKind through a table weighted like the generator's op
// mix (allocations and frees most often); a..e are the kind's arguments
// (op_encoding.cc documents each). encode_ops() is the inverse of decode_ops()
// for every recipe it can represent (seed corpora are written with it).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "properties/op_gen.h"
#include "spec/profile.h"

namespace mv::fuzz {

inline constexpr std::size_t kOpBytes = 6;
inline constexpr std::size_t kMaxOps = 256;

struct OpProgram {
  spec::Config config;
  std::vector<properties::OpRecipe> recipes;
};

OpProgram decode_ops(const std::uint8_t* data, std::size_t size);
// The bytes that decode_ops() turns back into `program` (sizes that the
// encoding cannot carry, above 16 MiB, are clamped; a page size other than
// 4K/16K/64K becomes 4K).
std::vector<std::uint8_t> encode_ops(const OpProgram& program);

}  // namespace mv::fuzz
