#include "fuzz/op_encoding.h"

#include <algorithm>
#include <array>

#include "trace/trace_reader.h"

namespace mv::fuzz {

namespace {

using properties::OpKind;
using properties::OpRecipe;

// The op mix of properties/op_gen.cc gen_recipe (its weights, without the
// state-dependent ones switched off): a random byte is mostly an alloc or a
// free, as in a campaign.
constexpr std::array<std::pair<OpKind, unsigned>, properties::kNrOpKinds> kKindWeights = {{
    {OpKind::mkdir, 6},     {OpKind::rmdir, 4},   {OpKind::spawn, 5},      {OpKind::exit, 2},
    {OpKind::migrate, 4},   {OpKind::run_on, 4},  {OpKind::alloc, 34},     {OpKind::free, 24},
    {OpKind::drain, 2},     {OpKind::drain_all, 3}, {OpKind::set_max, 5},  {OpKind::cpu_offline, 1},
    {OpKind::quiesce, 4},
}};

constexpr unsigned total_weight() {
  unsigned total = 0;
  for (const auto& [kind, weight] : kKindWeights) total += weight;
  return total;
}

OpKind kind_of_byte(std::uint8_t byte) {
  unsigned point = byte * total_weight() / 256;
  for (const auto& [kind, weight] : kKindWeights) {
    if (point < weight) return kind;
    point -= weight;
  }
  return OpKind::quiesce;
}

std::uint8_t byte_of_kind(OpKind kind) {
  for (unsigned b = 0; b < 256; ++b)
    if (kind_of_byte(static_cast<std::uint8_t>(b)) == kind) return static_cast<std::uint8_t>(b);
  return 255;
}

constexpr std::array<std::uint64_t, 4> kPageSizes = {4096, 16384, 65536, 4096};
constexpr std::uint32_t kRawSizeLimit = 1u << 24;  // c d e: a 24-bit size

// Byte b of a CPU argument: bits 0-5 the index, bit 7 "the line gives cpu".
void decode_cpu(std::uint8_t b, OpRecipe& r) {
  r.cpu = b & 0x3f;
  r.cpu_given = (b & 0x80) != 0;
}
std::uint8_t encode_cpu(const OpRecipe& r) {
  return static_cast<std::uint8_t>((r.cpu & 0x3f) | (r.cpu_given ? 0x80 : 0));
}

// Sizes: bit 3 of b set: index c into the configuration's boundary sizes
// (properties/op_gen.h slab_boundary_sizes / percpu_boundary_sizes); else the
// 24-bit value c d e itself.
std::vector<std::uint64_t> boundary_sizes(const spec::Config& config, spec::AllocKind kind) {
  return kind == spec::AllocKind::percpu ? properties::percpu_boundary_sizes(config)
                                         : properties::slab_boundary_sizes(config);
}

}  // namespace

OpProgram decode_ops(const std::uint8_t* data, std::size_t size) {
  OpProgram program;
  program.config.profile = spec::Profile::v6_6;
  if (size == 0) {
    program.config.ncpus = 1;
    return program;
  }
  program.config.ncpus = 1 + (data[0] & 3);
  program.config.page_size_bytes = kPageSizes[(data[0] >> 2) & 3];
  const std::size_t pool = properties::path_pool().size();
  for (std::size_t at = 1; at + kOpBytes <= size && program.recipes.size() < kMaxOps;
       at += kOpBytes) {
    const std::uint8_t* op = data + at;
    OpRecipe r;
    r.kind = kind_of_byte(op[0]);
    const std::uint8_t a = op[1], b = op[2], c = op[3], d = op[4], e = op[5];
    switch (r.kind) {
      // a: the pool path; b: the CPU (bit 7: given)
      case OpKind::mkdir:
      case OpKind::rmdir:
      case OpKind::drain_all:
      case OpKind::spawn:
        r.path = a % pool;
        decode_cpu(b, r);
        if (r.kind == OpKind::spawn) r.cpu_given = true;
        break;
      // a: the live task
      case OpKind::exit: r.task = a; break;
      case OpKind::migrate: r.task = a; r.path = b % pool; break;
      case OpKind::run_on: r.task = a; decode_cpu(b, r); r.cpu_given = true; break;
      // a: the live task; b: bits 0-1 the kind, bit 2 nofail, bit 3 boundary
      // size; c (index) or c d e (bytes): the size; c: the page order
      case OpKind::alloc: {
        r.task = a;
        r.alloc_kind = static_cast<spec::AllocKind>(b & 3);
        // A kernel stack is always charged with GFP_KERNEL: the trace format
        // refuses nofail on it (as the generator never draws it).
        r.nofail = (b & 4) != 0 && r.alloc_kind != spec::AllocKind::stack;
        if (r.alloc_kind == spec::AllocKind::page) {
          r.order = c % (properties::kMaxOrder + 2);  // kMaxOrder + 1: refused
        } else if (r.alloc_kind != spec::AllocKind::stack) {
          if (b & 8) {
            auto sizes = boundary_sizes(program.config, r.alloc_kind);
            r.size_bytes = sizes[c % sizes.size()];
          } else {
            r.size_bytes = std::uint64_t{c} << 16 | std::uint64_t{d} << 8 | e;
          }
          // A slab size of 0 or above KMALLOC_MAX_SIZE is no kmem_cache's (a
          // trace error, not a request): 1 .. max_slab_bytes. A percpu size of
          // 24 bits is always a request (refused above PCPU_MIN_UNIT_SIZE).
          if (r.alloc_kind == spec::AllocKind::slab)
            r.size_bytes = 1 + (r.size_bytes == 0 ? 0 : (r.size_bytes - 1) % trace::max_slab_bytes(program.config));
        }
        break;
      }
      // a: the live object; b: the CPU (bit 7: given)
      case OpKind::free: r.object = a; decode_cpu(b, r); break;
      case OpKind::drain: r.cpu = a; break;
      case OpKind::cpu_offline: r.cpu = a; break;
      // a: the pool path; b: the CPU; c: 255 "max", else usage + (int8) c pages
      case OpKind::set_max:
        r.path = a % pool;
        decode_cpu(b, r);
        r.max_unlimited = c == 255;
        r.max_delta_pages = static_cast<std::int8_t>(c);
        break;
      case OpKind::quiesce: break;
    }
    program.recipes.push_back(r);
  }
  return program;
}

std::vector<std::uint8_t> encode_ops(const OpProgram& program) {
  std::vector<std::uint8_t> out;
  const auto& config = program.config;
  const auto page = std::find(kPageSizes.begin(), kPageSizes.end(), config.page_size_bytes);
  out.push_back(static_cast<std::uint8_t>(((config.ncpus - 1) & 3) |
                                          (page == kPageSizes.end() ? 0 : (page - kPageSizes.begin()) << 2)));
  for (const auto& r : program.recipes) {
    if (out.size() >= 1 + kMaxOps * kOpBytes) break;
    std::array<std::uint8_t, kOpBytes> op{byte_of_kind(r.kind), 0, 0, 0, 0, 0};
    switch (r.kind) {
      case OpKind::mkdir:
      case OpKind::rmdir:
      case OpKind::drain_all:
      case OpKind::spawn:
        op[1] = static_cast<std::uint8_t>(r.path);
        op[2] = encode_cpu(r);
        break;
      case OpKind::exit: op[1] = static_cast<std::uint8_t>(r.task); break;
      case OpKind::migrate:
        op[1] = static_cast<std::uint8_t>(r.task);
        op[2] = static_cast<std::uint8_t>(r.path);
        break;
      case OpKind::run_on:
        op[1] = static_cast<std::uint8_t>(r.task);
        op[2] = encode_cpu(r);
        break;
      case OpKind::alloc: {
        op[1] = static_cast<std::uint8_t>(r.task);
        op[2] = static_cast<std::uint8_t>(static_cast<unsigned>(r.alloc_kind) | (r.nofail ? 4 : 0));
        if (r.alloc_kind == spec::AllocKind::page) {
          op[3] = static_cast<std::uint8_t>(r.order);
        } else if (r.alloc_kind != spec::AllocKind::stack) {
          auto sizes = boundary_sizes(config, r.alloc_kind);
          auto hit = std::find(sizes.begin(), sizes.end(), r.size_bytes);
          if (hit != sizes.end() && hit - sizes.begin() < 256) {
            op[2] |= 8;
            op[3] = static_cast<std::uint8_t>(hit - sizes.begin());
          } else {
            const std::uint64_t size = std::min<std::uint64_t>(r.size_bytes, kRawSizeLimit - 1);
            op[3] = static_cast<std::uint8_t>(size >> 16);
            op[4] = static_cast<std::uint8_t>(size >> 8);
            op[5] = static_cast<std::uint8_t>(size);
          }
        }
        break;
      }
      case OpKind::free:
        op[1] = static_cast<std::uint8_t>(r.object);
        op[2] = encode_cpu(r);
        break;
      case OpKind::drain:
      case OpKind::cpu_offline: op[1] = static_cast<std::uint8_t>(r.cpu); break;
      case OpKind::set_max:
        op[1] = static_cast<std::uint8_t>(r.path);
        op[2] = encode_cpu(r);
        op[3] = r.max_unlimited ? 255
                                : static_cast<std::uint8_t>(static_cast<std::int8_t>(
                                      std::clamp<std::int32_t>(r.max_delta_pages, -128, 126)));
        break;
      case OpKind::quiesce: break;
    }
    out.insert(out.end(), op.begin(), op.end());
  }
  return out;
}

}  // namespace mv::fuzz
