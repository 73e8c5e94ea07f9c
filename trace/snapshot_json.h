// A spec::Snapshot as JSON, with the trace's names: the state part of the
// replay report (docs/DESIGN.md "Report") and what two models'
// snapshots are compared on. Every Snapshot field appears, so two snapshots
// render equal exactly when they are equal.
#pragma once

#include <nlohmann/json.hpp>

#include "spec/snapshot.h"
#include "trace/names.h"

namespace mv::trace {

using Json = nlohmann::ordered_json;  // keeps the contract's field order

// {"cgroups":[...],"objcgs":[...],"stocks":[...],"objects":[...],"tasks":[...],
//  "caches":[...],"slab_pages":[...],"events":[...],"pending_work":N}
Json snapshot_json(const spec::Snapshot& snapshot, const TraceNames& names);

// A memcg by its path ("/a"); models only name memcgs they listed, but a
// broken model must still render: an unknown id shows as "memcg#ID".
std::string memcg_path(const spec::Snapshot& snapshot, const TraceNames& names, spec::MemcgId id);

// A root kmem_cache by its trace name, or "size-N" for the unnamed cache of
// objects of N bytes.
std::string cache_name(const TraceNames& names, const std::optional<spec::CacheKey>& key,
                       std::uint64_t object_size_bytes);

}  // namespace mv::trace
