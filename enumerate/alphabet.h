// The small scope of `memcg-verify enumerate` (docs/ENUMERATE.md): a fixed
// prologue that makes the cgroups and the task the letters act on, then an
// alphabet of operation recipes (properties/op_gen.h) whose arguments are
// indices into what exists when they run, so every string over the alphabet
// is a valid program (a letter with nothing to act on is skipped).
//
// The scope: 2 CPUs (by default), three cgroups (/, /a, /a/x), one task,
// slab sizes at the page and stock boundaries, frees on either CPU, migrate,
// rmdir, drain_all, set_max at usage, cpu_offline and quiesce.
#pragma once

#include <string>
#include <vector>

#include "properties/op_gen.h"
#include "spec/profile.h"

namespace mv::enumerate {

struct Letter {
  std::string name;  // "alloc slab 4088", "free #0 on cpu 1"
  properties::OpRecipe recipe;
};

// mkdir /a, mkdir /a/x, spawn a task in /a/x on CPU 0.
std::vector<Letter> prologue();
std::vector<Letter> small_alphabet(const spec::Config& config);

}  // namespace mv::enumerate
