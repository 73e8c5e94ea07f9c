#include "enumerate/alphabet.h"

#include <algorithm>

#include <fmt/format.h>

namespace mv::enumerate {

namespace {

using properties::OpKind;
using properties::OpRecipe;

std::uint32_t pool_index(std::string_view path) {
  const auto& pool = properties::path_pool();
  return static_cast<std::uint32_t>(std::find(pool.begin(), pool.end(), path) - pool.begin());
}

OpRecipe recipe(OpKind kind) {
  OpRecipe r;
  r.kind = kind;
  return r;
}

OpRecipe on_path(OpKind kind, std::string_view path) {
  OpRecipe r = recipe(kind);
  r.path = pool_index(path);
  r.cpu_given = false;  // mkdir, rmdir, drain_all, set_max: the default CPU
  return r;
}

}  // namespace

std::vector<Letter> prologue() {
  OpRecipe spawn = on_path(OpKind::spawn, "/a/x");
  spawn.cpu = 0;
  spawn.cpu_given = true;
  return {{"mkdir /a", on_path(OpKind::mkdir, "/a")},
          {"mkdir /a/x", on_path(OpKind::mkdir, "/a/x")},
          {"spawn task in /a/x on cpu 0", spawn}};
}

std::vector<Letter> small_alphabet(const spec::Config& config) {
  std::vector<Letter> letters;
  const std::uint64_t page = config.page_size_bytes;
  const std::uint64_t batch = config.profile_traits().charge_batch_pages;
  constexpr std::uint64_t kPointer = 8;  // obj_full_size: the objcg pointer per object
  // Full sizes: half a page (two fill the byte stock's page), exactly a page,
  // a page and a byte (one page from the page stock plus a remainder), and a
  // whole charge batch (the page stock's refill bound).
  for (std::uint64_t full : {page / 2, page, page + 1, batch * page}) {
    OpRecipe alloc = recipe(OpKind::alloc);
    alloc.alloc_kind = spec::AllocKind::slab;
    alloc.size_bytes = full - kPointer;
    letters.push_back({fmt::format("alloc slab {} (full {})", alloc.size_bytes, full), alloc});
  }
  OpRecipe page_alloc = recipe(OpKind::alloc);
  page_alloc.alloc_kind = spec::AllocKind::page;
  page_alloc.order = 0;
  letters.push_back({"alloc page order 0", page_alloc});
  // Frees by index into the live objects, on either CPU.
  for (auto [object, cpu] : {std::pair{0u, 0u}, {0u, 1u}, {1u, 1u}}) {
    OpRecipe free = recipe(OpKind::free);
    free.object = object;
    free.cpu = cpu;
    free.cpu_given = true;
    letters.push_back({fmt::format("free #{} on cpu {}", object, cpu), free});
  }
  for (std::uint32_t cpu : {1u, 0u}) {
    OpRecipe run_on = recipe(OpKind::run_on);
    run_on.cpu = cpu;
    letters.push_back({fmt::format("run_on cpu {}", cpu), run_on});
  }
  for (std::string_view path : {"/a", "/a/x"}) {
    OpRecipe migrate = on_path(OpKind::migrate, path);
    letters.push_back({fmt::format("migrate to {}", path), migrate});
  }
  letters.push_back({"rmdir /a/x", on_path(OpKind::rmdir, "/a/x")});
  letters.push_back({"rmdir /a", on_path(OpKind::rmdir, "/a")});
  letters.push_back({"mkdir /a/x", on_path(OpKind::mkdir, "/a/x")});
  letters.push_back({"drain_all /", on_path(OpKind::drain_all, "/")});
  OpRecipe limit = on_path(OpKind::set_max, "/a/x");
  limit.max_delta_pages = 0;  // max = usage: the next charge must reclaim or fail
  letters.push_back({"set_max /a/x usage", limit});
  OpRecipe offline = recipe(OpKind::cpu_offline);
  offline.cpu = 1;
  letters.push_back({"cpu_offline 1", offline});
  letters.push_back({"quiesce", recipe(OpKind::quiesce)});
  return letters;
}

}  // namespace mv::enumerate
