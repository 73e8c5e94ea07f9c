#include "kernel/wire.h"

#include <variant>

#include "spec/overloaded.h"

namespace mv::kernel::wire {

namespace {

void put_opt_u32(Writer& w, const std::optional<std::uint32_t>& v) {
  w.boolean(v.has_value());
  if (v) w.u32(*v);
}

std::optional<std::uint32_t> get_opt_u32(Reader& r) {
  if (!r.boolean()) return std::nullopt;
  return r.u32();
}

template <class Enum>
Enum get_enum(Reader& r, std::uint8_t limit) {
  auto v = r.u8();
  if (v >= limit) throw std::runtime_error("corrupt frame: enum value out of range");
  return static_cast<Enum>(v);
}

}  // namespace

void put(Writer& w, const spec::Config& c) {
  w.u8(static_cast<std::uint8_t>(c.profile));
  w.u32(c.ncpus);
  w.u64(c.page_size_bytes);
}

spec::Config get_config(Reader& r) {
  spec::Config c;
  c.profile = static_cast<spec::Profile>(r.u8());
  c.ncpus = r.u32();
  c.page_size_bytes = r.u64();
  return c;
}

void put(Writer& w, const spec::Op& op) {
  w.u8(static_cast<std::uint8_t>(op.index()));
  std::visit(spec::Overloaded{
                 [&](const spec::Mkdir& o) { w.u32(o.cg), w.u32(o.cpu); },
                 [&](const spec::Rmdir& o) { w.u32(o.cg), w.u32(o.cpu); },
                 [&](const spec::Spawn& o) { w.u32(o.task), w.u32(o.cg), w.u32(o.cpu); },
                 [&](const spec::Exit& o) { w.u32(o.task); },
                 [&](const spec::Migrate& o) { w.u32(o.task), w.u32(o.cg); },
                 [&](const spec::RunOn& o) { w.u32(o.task), w.u32(o.cpu); },
                 [&](const spec::Alloc& o) {
                   w.u32(o.task), w.u32(o.obj), w.u8(static_cast<std::uint8_t>(o.kind));
                   w.u64(o.size_bytes), w.u32(o.order), w.boolean(o.nofail);
                 },
                 [&](const spec::Free& o) { w.u32(o.obj), w.u32(o.cpu); },
                 [&](const spec::Drain& o) { w.u32(o.cpu); },
                 [&](const spec::DrainAll& o) { w.u32(o.cg), w.u32(o.cpu); },
                 [&](const spec::SetMax& o) {
                   w.u32(o.cg), w.boolean(o.max_pages.has_value()), w.u64(o.max_pages.value_or(0));
                   w.u32(o.cpu);
                 },
                 [&](const spec::CpuOffline& o) { w.u32(o.cpu); },
                 [&](const spec::Quiesce&) {},
             },
             op);
}

spec::Op get_op(Reader& r) {
  switch (r.u8()) {
    case 0: { spec::Mkdir o; o.cg = r.u32(); o.cpu = r.u32(); return o; }
    case 1: { spec::Rmdir o; o.cg = r.u32(); o.cpu = r.u32(); return o; }
    case 2: { spec::Spawn o; o.task = r.u32(); o.cg = r.u32(); o.cpu = r.u32(); return o; }
    case 3: { spec::Exit o; o.task = r.u32(); return o; }
    case 4: { spec::Migrate o; o.task = r.u32(); o.cg = r.u32(); return o; }
    case 5: { spec::RunOn o; o.task = r.u32(); o.cpu = r.u32(); return o; }
    case 6: {
      spec::Alloc o;
      o.task = r.u32();
      o.obj = r.u32();
      o.kind = get_enum<spec::AllocKind>(r, 4);
      o.size_bytes = r.u64();
      o.order = r.u32();
      o.nofail = r.boolean();
      return o;
    }
    case 7: { spec::Free o; o.obj = r.u32(); o.cpu = r.u32(); return o; }
    case 8: { spec::Drain o; o.cpu = r.u32(); return o; }
    case 9: { spec::DrainAll o; o.cg = r.u32(); o.cpu = r.u32(); return o; }
    case 10: {
      spec::SetMax o;
      o.cg = r.u32();
      bool has = r.boolean();
      auto pages = r.u64();
      if (has) o.max_pages = pages;
      o.cpu = r.u32();
      return o;
    }
    case 11: { spec::CpuOffline o; o.cpu = r.u32(); return o; }
    case 12: return spec::Quiesce{};
  }
  throw std::runtime_error("corrupt frame: unknown operation");
}

void put(Writer& w, const spec::ObjectSnap& o) {
  w.u32(o.key);
  w.u8(static_cast<std::uint8_t>(o.kind));
  w.u64(o.charged_bytes);
  put_opt_u32(w, o.objcg);
  put_opt_u32(w, o.memcg);
  w.u32(o.nr_kmem_pages);
}

spec::ObjectSnap get_object(Reader& r) {
  spec::ObjectSnap o;
  o.key = r.u32();
  o.kind = get_enum<spec::AllocKind>(r, 4);
  o.charged_bytes = r.u64();
  o.objcg = get_opt_u32(r);
  o.memcg = get_opt_u32(r);
  o.nr_kmem_pages = r.u32();
  return o;
}

void put(Writer& w, const spec::Snapshot& s) {
  put(w, s.config);
  w.u32(static_cast<std::uint32_t>(s.cgroups.size()));
  for (const auto& c : s.cgroups) {
    w.u32(c.id), w.u32(c.path), put_opt_u32(w, c.parent);
    w.u8(static_cast<std::uint8_t>(c.state)), w.boolean(c.offlined);
    w.i64(c.usage_pages), w.boolean(c.max_pages.has_value()), w.u64(c.max_pages.value_or(0));
    w.u64(c.failcnt), w.u64(c.watermark_pages), w.i64(c.css_refs), put_opt_u32(w, c.objcg);
    w.u32(c.nr_tasks);
  }
  w.u32(static_cast<std::uint32_t>(s.objcgs.size()));
  for (const auto& o : s.objcgs) {
    w.u32(o.id), w.u32(o.origin), w.u32(o.memcg), w.u8(static_cast<std::uint8_t>(o.state));
    w.i64(o.refs), w.u32(o.nr_charged_bytes), w.i64(o.charged_pages);
  }
  w.u32(static_cast<std::uint32_t>(s.stocks.size()));
  for (const auto& st : s.stocks) {
    w.u32(st.cpu), w.boolean(st.online);
    w.u32(static_cast<std::uint32_t>(st.page_stock.size()));
    for (const auto& slot : st.page_stock) w.u32(slot.memcg), w.u32(slot.nr_pages);
    put_opt_u32(w, st.cached_objcg), w.u32(st.nr_bytes), w.boolean(st.flushing);
  }
  w.u32(static_cast<std::uint32_t>(s.objects.size()));
  for (const auto& o : s.objects) put(w, o);
  w.u32(static_cast<std::uint32_t>(s.tasks.size()));
  for (const auto& t : s.tasks) w.u32(t.key), w.u32(t.memcg), w.u32(t.cpu);
  w.u32(static_cast<std::uint32_t>(s.events.size()));
  for (const auto& e : s.events) w.u8(static_cast<std::uint8_t>(e.kind)), w.u32(e.subject), w.i64(e.value);
  w.u32(s.pending_work);
}

spec::Snapshot get_snapshot(Reader& r) {
  spec::Snapshot s;
  s.config = get_config(r);
  s.cgroups.resize(r.count());
  for (auto& c : s.cgroups) {
    c.id = r.u32();
    c.path = r.u32();
    c.parent = get_opt_u32(r);
    c.state = get_enum<spec::CgroupState>(r, 3);
    c.offlined = r.boolean();
    c.usage_pages = r.i64();
    bool has_max = r.boolean();
    auto max = r.u64();
    if (has_max) c.max_pages = max;
    c.failcnt = r.u64();
    c.watermark_pages = r.u64();
    c.css_refs = r.i64();
    c.objcg = get_opt_u32(r);
    c.nr_tasks = r.u32();
  }
  s.objcgs.resize(r.count());
  for (auto& o : s.objcgs) {
    o.id = r.u32();
    o.origin = r.u32();
    o.memcg = r.u32();
    o.state = get_enum<spec::ObjcgState>(r, 3);
    o.refs = r.i64();
    o.nr_charged_bytes = r.u32();
    o.charged_pages = r.i64();
  }
  s.stocks.resize(r.count());
  for (auto& st : s.stocks) {
    st.cpu = r.u32();
    st.online = r.boolean();
    st.page_stock.resize(r.count());
    for (auto& slot : st.page_stock) {
      slot.memcg = r.u32();
      slot.nr_pages = r.u32();
    }
    st.cached_objcg = get_opt_u32(r);
    st.nr_bytes = r.u32();
    st.flushing = r.boolean();
  }
  s.objects.resize(r.count());
  for (auto& o : s.objects) o = get_object(r);
  s.tasks.resize(r.count());
  for (auto& t : s.tasks) {
    t.key = r.u32();
    t.memcg = r.u32();
    t.cpu = r.u32();
  }
  s.events.resize(r.count());
  for (auto& e : s.events) {
    e.kind = get_enum<spec::EventKind>(r, 5);
    e.subject = r.u32();
    e.value = r.i64();
  }
  s.pending_work = r.u32();
  return s;
}

}  // namespace mv::kernel::wire
