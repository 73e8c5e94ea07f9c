// The invariant registry, the Monitor that runs the checkers step after step,
// and the generator of docs/INVARIANTS.md. Each invariant's statement and
// checker live in its own spec/inv_*.cc.
#include "spec/invariants.h"

#include <algorithm>
#include <map>
#include <set>
#include <cctype>
#include <iterator>
#include <optional>
#include <stdexcept>
#include <variant>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "spec/design_claims.h"
#include "spec/holders.h"
#include "spec/incremental_state.h"
#include "spec/invariant_checks.h"
#include "spec/known_bug.h"
#include "spec/snapshot_index.h"

namespace mv::spec {

namespace {

const std::vector<InvariantDef>& definitions() {
  static const std::vector<InvariantDef> defs = {
      page_conservation_invariant(), byte_conservation_invariant(), ref_balance_invariant(),
      no_pin_invariant(),            stock_bounds_invariant(),      no_underflow_invariant(),
      release_aligned_invariant(),   limit_invariant(),             no_uaf_invariant(),
      reparent_invariant(),          caches_bounded_invariant(),
  };
  return defs;
}

// The definitions checked in `profile`, in registry order: sorted out once
// per profile, not on every step.
const std::vector<const InvariantDef*>& checked_definitions(Profile profile) {
  static const auto by_profile = [] {
    std::vector<std::vector<const InvariantDef*>> table;
    for (const auto& t : all_profiles()) {
      const auto i = static_cast<std::size_t>(t.profile);
      if (table.size() <= i) table.resize(i + 1);
      for (const auto& def : definitions())
        if (checked_in(def.info, t.profile)) table[i].push_back(&def);
    }
    return table;
  }();
  return by_profile.at(static_cast<std::size_t>(profile));
}

bool is_byte_charged(AllocKind kind) { return kind == AllocKind::slab || kind == AllocKind::percpu; }

void note_objects(const std::vector<ObjectSnap>& objects, Monitor::History& history) {
  for (const auto& object : objects)
    if (is_byte_charged(object.kind))
      history.largest_charged_bytes = std::max(history.largest_charged_bytes, object.charged_bytes);
}

std::string profile_list(const std::vector<Profile>& profiles) {
  std::vector<std::string_view> names;
  for (Profile p : profiles) names.push_back(profile_name(p));
  return fmt::format("{}", fmt::join(names, ", "));
}

// The profiles among `profiles` that a model runs (`modeled`) or that are
// only stated (no model checks them yet); "-" when none.
std::string profile_list(const std::vector<Profile>& profiles, bool modeled) {
  std::vector<std::string_view> names;
  for (Profile p : profiles)
    if (traits(p).modeled == modeled) names.push_back(profile_name(p));
  return names.empty() ? std::string("-") : fmt::format("{}", fmt::join(names, ", "));
}

// GitHub's heading anchor: lower case, letters, digits and '-'.
std::string anchor(std::string_view heading) {
  std::string a;
  for (char c : heading)
    if (std::isalnum(static_cast<unsigned char>(c)) || c == '-')
      a += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return a;
}

// memcg_hotplug_cpu_dead ran for op's CPU: remember what its obj stock held.
// Online in the kernel's sense (INV-CACHES-BOUNDED): mem_cgroup_css_online
// has run and mem_cgroup_css_offline has not, so the memcg still holds its
// kmemcg_id; a removed cgroup stays online until its offline runs.
bool online_memcg(const CgroupSnap* cg) {
  return cg && cg->parent && cg->state != CgroupState::freed && !cg->offlined;
}

std::uint64_t count_online(const std::vector<CgroupSnap>& cgroups) {
  std::uint64_t online = 0;
  for (const auto& cg : cgroups) online += online_memcg(&cg);
  return online;
}

void note_max_online(const std::vector<CgroupSnap>& cgroups, Monitor::History& history) {
  history.max_online_memcgs = std::max(history.max_online_memcgs, count_online(cgroups));
}

void note_offline(const Op* op, Errno result, const PriorView* before, Monitor::History& history) {
  if (!op || !before || result != Errno::ok) return;
  const auto* offline = std::get_if<CpuOffline>(op);
  if (!offline) return;
  const StockSnap* stock = before->stock(offline->cpu);
  if (!stock) return;
  history.offline_obj_stocks[offline->cpu] = {stock->cached_objcg, stock->nr_bytes};
}

}  // namespace

std::vector<Violation> unexplained(const std::vector<Violation>& violations) {
  std::vector<Violation> out;
  for (const auto& v : violations)
    if (!v.explained()) out.push_back(v);
  return out;
}

std::vector<Profile> all_profile_ids() {
  std::vector<Profile> ids;
  for (const auto& t : all_profiles()) ids.push_back(t.profile);
  return ids;
}

std::vector<Profile> objcg_profile_ids() {
  std::vector<Profile> ids;
  for (const auto& t : all_profiles())
    if (profile_has_objcg(t)) ids.push_back(t.profile);
  return ids;
}

std::vector<Profile> objcg_profile_ids_before(Profile first_excluded) {
  std::vector<Profile> ids;
  for (Profile p : objcg_profile_ids())
    if (p < first_excluded) ids.push_back(p);
  return ids;
}

std::vector<Profile> reparenting_profile_ids() {
  std::vector<Profile> ids;
  for (const auto& t : all_profiles())
    if (t.has_objcg() || t.slab == SlabCharging::reparented_cache_pages) ids.push_back(t.profile);
  return ids;
}

std::vector<Profile> memcg_cache_profile_ids() {
  std::vector<Profile> ids;
  for (const auto& t : all_profiles())
    if (t.has_memcg_caches()) ids.push_back(t.profile);
  return ids;
}

std::string CheckContext::memcg_name(const CgroupSnap& cg) const {
  if (paths && cg.path < paths->size()) return fmt::format("{} (memcg {})", paths->path(cg.path), cg.id);
  return fmt::format("memcg {}", cg.id);
}

std::string CheckContext::memcg_name(MemcgId id, const PriorView& index) const {
  const CgroupSnap* cg = index.memcg(id);
  return cg ? memcg_name(*cg) : fmt::format("memcg {}", id);
}

std::vector<Event> new_events(const CheckContext& ctx) {
  const auto& events = ctx.after.events();
  std::size_t first = std::min(ctx.history.events_reported, events.size());
  return {events.begin() + static_cast<std::ptrdiff_t>(first), events.end()};
}

const std::vector<InvariantInfo>& invariant_registry() {
  static const std::vector<InvariantInfo> infos = [] {
    std::vector<InvariantInfo> v;
    for (const auto& def : definitions()) v.push_back(def.info);
    return v;
  }();
  return infos;
}

const InvariantInfo* find_invariant(std::string_view id) {
  for (const auto& info : invariant_registry())
    if (info.id == id) return &info;
  return nullptr;
}

bool checked_in(const InvariantInfo& info, Profile profile) {
  return std::find(info.profiles.begin(), info.profiles.end(), profile) != info.profiles.end();
}

// --- the incremental check's memory: each section's violations by anchor ---

struct SectionCache {
  AnchorKind kind = AnchorKind::step;
  bool step_only = false;
  bool evaluated_once = false;  // over every anchor, since the last rebuild
  bool invoked = false;         // in the step being checked
  std::map<std::uint32_t, std::vector<Violation>> violations;  // by anchor; none: holds
  std::set<std::uint32_t> backlog;  // affected while the section did not run
};

struct Monitor::Indexes {
  std::optional<SnapshotIndex> after, before;
};

struct Monitor::DeltaCache {
  std::map<std::string_view, std::map<std::uint8_t, SectionCache>> sections;  // by invariant id
  // The memcgs online after the last step, kept from the memcgs each step
  // affected (note_max_online counts them all once: a count per step over
  // every memcg made replay quadratic in the cgroups a trace creates).
  std::uint64_t online_memcgs = 0;
};

namespace {

const std::vector<std::uint32_t>& affected_ids(const IncrementalState::Affected& a, AnchorKind kind) {
  static const std::vector<std::uint32_t> none;
  switch (kind) {
    case AnchorKind::memcg: return a.memcgs;
    case AnchorKind::objcg: return a.objcgs;
    case AnchorKind::task: return a.tasks;
    case AnchorKind::step: return none;
  }
  return none;
}

// Files one invariant's violations under their section and anchor.
class DeltaSink final : public AnchorSink {
 public:
  DeltaSink(std::map<std::uint8_t, SectionCache>& sections, const IncrementalState::Affected& affected)
      : sections_(sections), affected_(affected) {}

  const std::vector<std::uint32_t>* begin_section(Section section, AnchorKind kind) override {
    SectionCache& c = sections_[section.number];
    current_ = &c;
    c.kind = kind;
    c.step_only = section.step_only || kind == AnchorKind::step;
    c.invoked = true;
    if (c.step_only) c.violations.clear();
    if (kind == AnchorKind::step) return nullptr;
    if (affected_.everything || (!c.step_only && !c.evaluated_once)) {
      c.violations.clear();
      c.backlog.clear();
      c.evaluated_once = true;
      return nullptr;
    }
    const auto& ids = affected_ids(affected_, kind);
    ids_.clear();
    std::set_union(ids.begin(), ids.end(), c.backlog.begin(), c.backlog.end(), std::back_inserter(ids_));
    c.backlog.clear();
    for (auto id : ids_) c.violations.erase(id);
    return &ids_;
  }
  void begin_anchor(std::uint32_t id) override { anchor_ = id; }
  void add(Violation violation) override {
    current_->violations[anchor_].push_back(std::move(violation));
  }

 private:
  std::map<std::uint8_t, SectionCache>& sections_;
  const IncrementalState::Affected& affected_;
  SectionCache* current_ = nullptr;
  std::uint32_t anchor_ = 0;
  std::vector<std::uint32_t> ids_;
};

}  // namespace

Monitor::Monitor(const Config& config, const PathTable* paths) : config_(config), paths_(paths) {}
Monitor::Monitor(const Monitor& other)
    : config_(other.config_),
      paths_(other.paths_),
      history_(other.history_),
      cache_(other.cache_ ? std::make_unique<DeltaCache>(*other.cache_) : nullptr) {}
Monitor::Monitor(Monitor&& other) noexcept = default;
Monitor& Monitor::operator=(Monitor other) noexcept {
  std::swap(config_, other.config_);
  std::swap(paths_, other.paths_);
  std::swap(history_, other.history_);
  std::swap(cache_, other.cache_);
  std::swap(indexes_, other.indexes_);
  return *this;
}
Monitor::~Monitor() = default;

std::vector<Violation> Monitor::check_delta(const Op* op, Errno result, const IncrementalState& state,
                                            const std::vector<ObjectSnap>& created) {
  if (!cache_) cache_ = std::make_unique<DeltaCache>();
  note_objects(created, history_);
  if (op)
    if (const auto* alloc = std::get_if<Alloc>(op); alloc && alloc->nofail)
      history_.forced_charge_seen = true;
  const PriorView* before = op ? &state.before() : nullptr;
  note_offline(op, result, before, history_);
  // The initial state comes before any apply(): everything is affected.
  const auto& affected = state.affected();
  if (affected.everything || !before) {
    cache_->online_memcgs = count_online(state.cgroups());
  } else {
    for (MemcgId id : affected.memcgs) {
      cache_->online_memcgs += online_memcg(state.memcg(id));
      cache_->online_memcgs -= online_memcg(before->memcg(id));
    }
  }
  history_.max_online_memcgs = std::max(history_.max_online_memcgs, cache_->online_memcgs);
  CheckContext ctx{op,       result, state, before, config_.profile_traits(),
                   config_.page(), config_.ncpus, history_, paths_};
  std::vector<Violation> out;
  for (const InvariantDef* def : checked_definitions(config_.profile)) {
    auto& sections = cache_->sections[def->info.id];
    DeltaSink sink(sections, affected);
    Report report(def->info.id, out, &sink);
    def->check(ctx, report);
    for (auto& [number, c] : sections) {
      if (!c.invoked) {
        // Not run this step (its invariant's guard is off): its violations
        // are not shown, and what the step affected waits for the next run.
        if (c.step_only) continue;
        if (affected.everything) c.evaluated_once = false;
        const auto& ids = affected_ids(affected, c.kind);
        c.backlog.insert(ids.begin(), ids.end());
        continue;
      }
      c.invoked = false;
      for (const auto& [anchor, violations] : c.violations)
        out.insert(out.end(), violations.begin(), violations.end());
    }
  }
  mark_known_bugs(ctx, out);
  mark_design_claims(config_.profile, out);
  history_.events_reported = state.events().size();
  return out;
}

namespace {

// `slot`'s index made over `snap` (with a summary's totals, or none), or, on
// the next steps, reset over it: its tables keep their storage.
const SnapshotIndex& index_into(std::optional<SnapshotIndex>& slot, const Snapshot& snap,
                                const ObjectTotals* totals) {
  if (slot)
    slot->reset(snap, totals);
  else if (totals)
    slot.emplace(snap, *totals);
  else
    slot.emplace(snap);
  return *slot;
}

}  // namespace

std::vector<Violation> Monitor::check(const Step& step) { return run(step, {}); }

std::vector<Violation> Monitor::check_only(std::string_view id, const Step& step) {
  if (!find_invariant(id)) throw std::invalid_argument(fmt::format("unknown invariant {}", id));
  return run(step, id);
}

std::vector<Violation> Monitor::check_summary(const Step& step, const ObjectTotals& after_objects,
                                              const std::vector<ObjectSnap>& created) {
  return run(step, {}, &after_objects, &created);
}

std::vector<Violation> Monitor::run(const Step& step, std::string_view only,
                                    const ObjectTotals* after_objects,
                                    const std::vector<ObjectSnap>* created) {
  if (!step.after) throw std::logic_error("Monitor: a step needs an after snapshot");
  if (after_objects) {
    // Every live object was created by some step: the largest seen so far
    // covers it (the initial state has none).
    if (created) note_objects(*created, history_);
  } else {
    if (step.before) note_objects(step.before->objects, history_);
    note_objects(step.after->objects, history_);
  }
  if (step.op)
    if (const auto* alloc = std::get_if<Alloc>(step.op); alloc && alloc->nofail)
      history_.forced_charge_seen = true;
  note_max_online(step.after->cgroups, history_);

  if (!indexes_) indexes_ = std::make_unique<Indexes>();
  const SnapshotIndex& after = index_into(indexes_->after, *step.after, after_objects);
  const SnapshotIndex* before =
      step.before ? &index_into(indexes_->before, *step.before, nullptr) : nullptr;
  note_offline(step.op, step.result, before, history_);
  CheckContext ctx{step.op,       step.result,     after,   before,
                   config_.profile_traits(),       config_.page(),   config_.ncpus,
                   history_,      paths_};
  std::vector<Violation> out;
  for (const InvariantDef* def : checked_definitions(config_.profile)) {
    if (!only.empty() && def->info.id != only) continue;
    Report report(def->info.id, out);
    def->check(ctx, report);
  }
  mark_known_bugs(ctx, out);
  mark_design_claims(config_.profile, out);
  history_.events_reported = step.after->events.size();
  return out;
}

std::string render_invariants_markdown(
    const std::map<std::string, std::vector<std::string>, std::less<>>& lemmas_by_invariant) {
  std::string md;
  auto out = std::back_inserter(md);
  fmt::format_to(out,
                 "<!-- generated by `memcg-verify doc`, do not edit: the source is spec/inv_*.cc -->\n"
                 "# Invariants\n\n"
                 "The named invariants of memcg kernel-memory accounting, as the executable spec "
                 "(`spec/inv_*.cc`, registry in `spec/invariants.cc`) states and checks them. Each is "
                 "checked by `spec::Monitor` on every step of a run: `before` and `after` snapshots "
                 "(`spec/snapshot.h`), the operation and its result. A profile not listed for an "
                 "invariant is one whose holders or counters the snapshot cannot express; a "
                 "documented violation in a listed profile is a result, not a bug. Only a "
                 "profile with a model is checked (`memcg-verify profiles`); in the others the "
                 "invariant is stated, for the model still to come.\n\n");
  fmt::format_to(out, "| id | title | checked in (a model runs it) | stated for (no model yet) |\n"
                      "| --- | --- | --- | --- |\n");
  for (const auto& info : invariant_registry())
    fmt::format_to(out, "| [`{}`](#{}) | {} | {} | {} |\n", info.id, anchor(info.id), info.title,
                   profile_list(info.profiles, true), profile_list(info.profiles, false));
  fmt::format_to(out, "\n| profile |");
  for (const auto& info : invariant_registry()) fmt::format_to(out, " {} |", info.id.substr(4));
  fmt::format_to(out, "\n| --- |");
  for (std::size_t i = 0; i < invariant_registry().size(); ++i) fmt::format_to(out, " --- |");
  fmt::format_to(out, "\n");
  for (const auto& t : all_profiles()) {
    fmt::format_to(out, "| {} |", t.name);
    for (const auto& info : invariant_registry())
      fmt::format_to(out, " {} |", !checked_in(info, t.profile) ? "-" : t.modeled ? "checked" : "stated");
    fmt::format_to(out, "\n");
  }
  fmt::format_to(out,
                 "\n## Known kernel bugs\n\n"
                 "A profile's kernel may really have a bug that breaks an invariant; its model "
                 "reproduces it. A violation that such a known bug explains (exactly: an invariant, "
                 "one of its clauses, and a test on the state) is reported as known, with the fix "
                 "that removes it (`\"known\": true`, `\"known_bug\"` and `\"fix\"` in the JSON "
                 "report), and does not fail a verdict; every other violation does "
                 "(`spec/known_bug.cc`).\n\n"
                 "| bug | fix | kernel function | breaks | in profiles |\n| --- | --- | --- | --- | --- |\n");
  for (const auto& bug : known_bug_catalog()) {
    std::vector<Profile> present;
    for (const auto& t : all_profiles())
      if (bug.present(t)) present.push_back(t.profile);
    fmt::format_to(out, "| `{}` | {} | `{}` | {} ({}) | {} |\n", bug.id, bug.fix, bug.function,
                   bug.invariant, bug.clause, profile_list(present));
  }
  for (const auto& bug : known_bug_catalog())
    fmt::format_to(out, "\n**`{}`**: {}. Fixed by {} {}. Explains: {}\n", bug.id, bug.title,
                   bug.fix, bug.fix_detail, bug.explains);
  for (const auto& info : invariant_registry()) {
    fmt::format_to(out, "\n## {}\n\n**{}**\n\n", info.id, info.title);
    fmt::format_to(out, "**Statement.** {}\n\n", info.statement);
    fmt::format_to(out, "**Kernel sources.** {}\n\n", info.kernel_sources);
    fmt::format_to(out, "**Profiles.** {}\n\n", info.profile_notes);
    fmt::format_to(out, "**Checked in:** {} (stated for, no model yet: {})\n\n",
                   profile_list(info.profiles, true), profile_list(info.profiles, false));
    auto it = lemmas_by_invariant.find(info.id);
    if (it == lemmas_by_invariant.end() || it->second.empty()) {
      fmt::format_to(out, "**Supporting Z3 lemmas:** none yet\n");
    } else {
      fmt::format_to(out, "**Supporting Z3 lemmas:**\n\n");
      for (const auto& lemma : it->second) fmt::format_to(out, "- `{}`\n", lemma);
    }
  }
  return md;
}

}  // namespace mv::spec
