#include "trace/trace_writer.h"

#include "spec/overloaded.h"

namespace mv::trace {

Json trace_header_json(const spec::Config& config, const std::string& note) {
  Json header = Json::object();
  header["profile"] = std::string(spec::profile_name(config.profile));
  header["cpus"] = config.ncpus;
  header["page_size"] = config.page_size_bytes;
  if (!note.empty()) header["note"] = note;
  return header;
}

namespace {

void add_preempt(Json& j, const TraceOp& line) {
  if (!line.preempt) return;
  j["preempt_at"] = std::string(spec::preempt_point_name(line.preempt->point));
  if (line.preempt->hit != 1) j["preempt_hit"] = line.preempt->hit;
}

}  // namespace

Json trace_line_json(const TraceOp& line, const TraceNames& names) {
  Json j = Json::object();
  if (line.resume) {
    j["op"] = "resume";
    j["id"] = line.id;
    add_preempt(j, line);
    return j;
  }
  j["op"] = std::string(spec::op_name(line.op));
  auto cg = [&](spec::PathKey key) { j["cg"] = names.paths.path(key); };
  auto task = [&](spec::TaskKey key) { j["task"] = names.tasks.name(key); };
  auto cpu = [&](spec::Cpu c) {
    if (line.cpu_given) j["cpu"] = c;
  };
  std::visit(spec::Overloaded{
                 [&](const spec::Mkdir& o) { cg(o.cg); cpu(o.cpu); },
                 [&](const spec::Rmdir& o) { cg(o.cg); cpu(o.cpu); },
                 [&](const spec::Spawn& o) { task(o.task); cg(o.cg); j["cpu"] = o.cpu; },
                 [&](const spec::Exit& o) { task(o.task); },
                 [&](const spec::Migrate& o) { task(o.task); cg(o.cg); cpu(o.cpu); },
                 [&](const spec::RunOn& o) { task(o.task); j["cpu"] = o.cpu; },
                 [&](const spec::Alloc& o) {
                   task(o.task);
                   j["obj"] = names.objects.name(o.obj);
                   j["kind"] = std::string(spec::alloc_kind_name(o.kind));
                   if (o.kind == spec::AllocKind::slab || o.kind == spec::AllocKind::percpu)
                     j["size"] = o.size_bytes;
                   if (o.kind == spec::AllocKind::page) j["order"] = o.order;
                   if (o.cache) j["cache"] = names.caches.name(*o.cache);
                   if (o.nofail) j["nofail"] = true;
                 },
                 [&](const spec::Free& o) { j["obj"] = names.objects.name(o.obj); cpu(o.cpu); },
                 [&](const spec::Drain& o) { j["cpu"] = o.cpu; },
                 [&](const spec::DrainAll& o) { cg(o.cg); cpu(o.cpu); },
                 [&](const spec::SetMax& o) {
                   cg(o.cg);
                   if (o.max_pages)
                     j["pages"] = *o.max_pages;
                   else
                     j["pages"] = "max";
                   cpu(o.cpu);
                 },
                 [&](const spec::CpuOffline& o) { j["cpu"] = o.cpu; },
                 [](const spec::Quiesce&) {},
             },
             line.op);
  add_preempt(j, line);
  if (line.preempt) j["id"] = line.id;
  return j;
}

}  // namespace mv::trace
