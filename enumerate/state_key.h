// The canonical key of a state of the small-scope search: two runs whose keys
// are equal are the same state for every future string over the alphabet, as
// far as the models show it, so the search expands only one of them.
//
// The key is the reference's full snapshot (the impl's equals it: the step
// runner compared them) with the trace's own names left out: the live objects
// and tasks are listed in the order the alphabet's letters index them (so
// "free #0" frees the same object in both), each without its name. Memcg and
// objcg ids stay (they are creation order: two runs that create the same
// cgroups in another order stay apart, which only costs dedup). The Monitor's
// history (the largest charge seen, whether a forced charge ran) is part of
// the key, since step invariants read it.
//
// What the models do not show is not in the key: the order of pending
// deferred work items beyond their count and the FLUSHING bits, and the
// per-CPU split of a percpu_ref count. `enumerate --no-dedup` searches
// strings instead of states, to check that this abstraction loses nothing at
// a given depth.
#pragma once

#include <string>

#include "properties/conformance.h"

namespace mv::enumerate {

// Bytes, compared exactly (no hash collisions): the set of seen states holds them.
std::string state_key(const properties::Conformance& run);

}  // namespace mv::enumerate
