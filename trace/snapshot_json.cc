#include "trace/snapshot_json.h"

#include <fmt/format.h>

namespace mv::trace {

namespace {

template <class T>
Json optional_value(const std::optional<T>& value) {
  return value ? Json(*value) : Json(nullptr);
}

std::string path_name(const TraceNames& names, spec::PathKey key) {
  return key < names.paths.size() ? names.paths.path(key) : fmt::format("path#{}", key);
}

std::string name_of(const NameTable& table, std::uint32_t key, std::string_view what) {
  return key < table.size() ? table.name(key) : fmt::format("{}#{}", what, key);
}

Json cgroup_json(const spec::Snapshot& s, const TraceNames& names, const spec::CgroupSnap& c) {
  return Json{
      {"path", path_name(names, c.path)},
      {"state", spec::cgroup_state_name(c.state)},
      {"usage_pages", c.usage_pages},
      {"max_pages", optional_value(c.max_pages)},
      {"failcnt", c.failcnt},
      {"css_refs", c.css_refs},
      {"id", c.id},
      {"parent", optional_value(c.parent)},
      {"offlined", c.offlined},
      {"watermark_pages", c.watermark_pages},
      {"objcg", optional_value(c.objcg)},
      {"nr_tasks", c.nr_tasks},
      {"kmemcg_id", optional_value(c.kmemcg_id)},
      {"cache_work_refs", c.cache_work_refs},
  };
}

Json objcg_json(const spec::Snapshot& s, const TraceNames& names, const spec::ObjcgSnap& o) {
  return Json{
      {"id", o.id},
      {"origin", memcg_path(s, names, o.origin)},
      {"memcg", memcg_path(s, names, o.memcg)},
      {"state", spec::objcg_state_name(o.state)},
      {"refs", o.refs},
      {"nr_charged_bytes", o.nr_charged_bytes},
      {"charged_pages", o.charged_pages},
      {"switch_pending", o.switch_pending},
      {"origin_id", o.origin},
      {"memcg_id", o.memcg},
  };
}

Json stock_json(const spec::Snapshot& s, const TraceNames& names, const spec::StockSnap& st) {
  Json page_stock = Json::array();
  for (const auto& slot : st.page_stock)
    page_stock.push_back(Json{{"memcg", memcg_path(s, names, slot.memcg)},
                              {"nr_pages", slot.nr_pages},
                              {"memcg_id", slot.memcg}});
  // null only when the stock is empty in every way: stray bytes with no
  // cached objcg must still show.
  Json obj_stock = nullptr;
  if (st.cached_objcg || st.nr_bytes != 0)
    obj_stock = Json{{"objcg", optional_value(st.cached_objcg)}, {"nr_bytes", st.nr_bytes}};
  return Json{
      {"cpu", st.cpu},
      {"page_stock", std::move(page_stock)},
      {"obj_stock", std::move(obj_stock)},
      {"online", st.online},
      {"flushing", st.flushing},
      {"obj_flushing", st.obj_flushing},
      {"evictions", st.evictions},
  };
}

Json object_json(const spec::Snapshot& s, const TraceNames& names, const spec::ObjectSnap& o) {
  return Json{
      {"id", name_of(names.objects, o.key, "object")},
      {"kind", spec::alloc_kind_name(o.kind)},
      {"charged_bytes", o.charged_bytes},
      {"objcg", optional_value(o.objcg)},
      {"memcg", o.memcg ? Json(memcg_path(s, names, *o.memcg)) : Json(nullptr)},
      {"memcg_id", optional_value(o.memcg)},
      {"nr_kmem_pages", o.nr_kmem_pages},
      {"slab_page", optional_value(o.slab_page)},
  };
}

Json cache_json(const spec::Snapshot& s, const TraceNames& names, const spec::KmemCacheSnap& c) {
  auto memcg = [&](const std::optional<spec::MemcgId>& id) {
    return id ? Json(memcg_path(s, names, *id)) : Json(nullptr);
  };
  return Json{
      {"id", c.id},
      {"name", cache_name(names, c.name, c.object_size_bytes)},
      {"root", optional_value(c.root)},
      {"object_size", c.object_size_bytes},
      {"order", c.order},
      {"objects_per_slab", c.objects_per_slab},
      {"kmemcg_id", optional_value(c.kmemcg_id)},
      {"origin", memcg(c.origin)},
      {"memcg", memcg(c.memcg)},
      {"state", spec::cache_state_name(c.state)},
      {"killed", c.killed},
      {"refs", c.refs},
      {"origin_id", optional_value(c.origin)},
      {"memcg_id", optional_value(c.memcg)},
  };
}

Json slab_page_json(const spec::Snapshot& s, const TraceNames& names, const spec::SlabPageSnap& p) {
  return Json{
      {"id", p.id},
      {"cache", p.cache},
      {"order", p.order},
      {"nr_objects", p.nr_objects},
      {"charged_pages", p.charged_pages},
      {"memcg", p.memcg ? Json(memcg_path(s, names, *p.memcg)) : Json(nullptr)},
      {"memcg_id", optional_value(p.memcg)},
  };
}

Json task_json(const spec::Snapshot& s, const TraceNames& names, const spec::TaskSnap& t) {
  return Json{
      {"id", name_of(names.tasks, t.key, "task")},
      {"cgroup", memcg_path(s, names, t.memcg)},
      {"cpu", t.cpu},
      {"memcg_id", t.memcg},
      {"objcg", optional_value(t.objcg)},
      {"objcg_update", t.objcg_update},
  };
}

Json event_json(const spec::Event& e) {
  return Json{{"kind", spec::event_kind_name(e.kind)}, {"subject", e.subject}, {"value", e.value}};
}

}  // namespace

std::string cache_name(const TraceNames& names, const std::optional<spec::CacheKey>& key,
                       std::uint64_t object_size_bytes) {
  if (!key) return fmt::format("size-{}", object_size_bytes);
  return name_of(names.caches, *key, "cache");
}

std::string memcg_path(const spec::Snapshot& snapshot, const TraceNames& names,
                       spec::MemcgId id) {
  if (id < snapshot.cgroups.size()) return path_name(names, snapshot.cgroups[id].path);
  return fmt::format("memcg#{}", id);
}

Json snapshot_json(const spec::Snapshot& s, const TraceNames& names) {
  Json out = Json::object();
  auto list = [&](const char* key, const auto& items, auto render) {
    Json array = Json::array();
    for (const auto& item : items) array.push_back(render(item));
    out[key] = std::move(array);
  };
  list("cgroups", s.cgroups, [&](const auto& c) { return cgroup_json(s, names, c); });
  list("objcgs", s.objcgs, [&](const auto& o) { return objcg_json(s, names, o); });
  list("stocks", s.stocks, [&](const auto& st) { return stock_json(s, names, st); });
  list("objects", s.objects, [&](const auto& o) { return object_json(s, names, o); });
  list("tasks", s.tasks, [&](const auto& t) { return task_json(s, names, t); });
  list("caches", s.caches, [&](const auto& c) { return cache_json(s, names, c); });
  list("slab_pages", s.slab_pages, [&](const auto& p) { return slab_page_json(s, names, p); });
  list("events", s.events, [&](const auto& e) { return event_json(e); });
  out["pending_work"] = s.pending_work;
  return out;
}

}  // namespace mv::trace
