#include "enumerate/state_key.h"

#include <algorithm>
#include <type_traits>

namespace mv::enumerate {

namespace {

// Appends the bytes of plain values.
class KeyWriter {
 public:
  template <class T>
  void put(const T& value) {
    static_assert(std::is_arithmetic_v<T> || std::is_enum_v<T>);
    out_.append(reinterpret_cast<const char*>(&value), sizeof value);
  }
  template <class T>
  void put(const std::optional<T>& value) {
    put(value.has_value());
    if (value) put(*value);
  }
  std::string take() { return std::move(out_); }

 private:
  std::string out_;
};

void put_object(KeyWriter& w, const spec::ObjectSnap& o) {
  w.put(o.kind);
  w.put(o.charged_bytes);
  w.put(o.objcg);
  w.put(o.memcg);
  w.put(o.nr_kmem_pages);
}

}  // namespace

std::string state_key(const properties::Conformance& run) {
  const spec::Snapshot& s = run.snapshot();  // full mode: objects included
  KeyWriter w;
  w.put(s.cgroups.size());
  for (const auto& c : s.cgroups) {
    w.put(c.id); w.put(c.path); w.put(c.parent); w.put(c.state); w.put(c.offlined);
    w.put(c.usage_pages); w.put(c.max_pages); w.put(c.failcnt); w.put(c.watermark_pages);
    w.put(c.css_refs); w.put(c.objcg); w.put(c.nr_tasks);
  }
  w.put(s.objcgs.size());
  for (const auto& o : s.objcgs) {
    w.put(o.id); w.put(o.origin); w.put(o.memcg); w.put(o.state); w.put(o.refs);
    w.put(o.nr_charged_bytes); w.put(o.charged_pages);
  }
  w.put(s.stocks.size());
  for (const auto& st : s.stocks) {
    w.put(st.online); w.put(st.cached_objcg); w.put(st.nr_bytes); w.put(st.flushing);
    w.put(st.page_stock.size());
    for (const auto& slot : st.page_stock) { w.put(slot.memcg); w.put(slot.nr_pages); }
  }
  // Live objects and tasks in the order the letters index them, without names.
  w.put(run.live_object_keys().size());
  for (auto key : run.live_object_keys()) {
    auto it = std::lower_bound(s.objects.begin(), s.objects.end(), key,
                               [](const spec::ObjectSnap& o, spec::ObjKey k) { return o.key < k; });
    if (it != s.objects.end() && it->key == key) put_object(w, *it);
    else w.put(std::uint8_t{0xff});  // not listed: a disagreement the runner reports anyway
  }
  w.put(run.live_task_keys().size());
  for (auto key : run.live_task_keys()) {
    auto it = std::find_if(s.tasks.begin(), s.tasks.end(),
                           [key](const spec::TaskSnap& t) { return t.key == key; });
    if (it != s.tasks.end()) { w.put(it->memcg); w.put(it->cpu); }
  }
  w.put(s.events.size());
  for (const auto& e : s.events) { w.put(e.kind); w.put(e.subject); w.put(e.value); }
  w.put(s.pending_work);
  w.put(run.monitor_history().largest_charged_bytes);
  w.put(run.monitor_history().forced_charge_seen);
  return w.take();
}

}  // namespace mv::enumerate
