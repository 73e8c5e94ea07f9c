#include "properties/designs.h"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <regex>
#include <set>
#include <stdexcept>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "spec/invariants.h"
#include "spec/known_bug.h"
#include "trace/replay.h"
#include "trace/trace_reader.h"

namespace mv::properties {

using Json = nlohmann::ordered_json;

std::string_view outcome_name(Outcome outcome) {
  switch (outcome) {
    case Outcome::holds: return "holds";
    case Outcome::violated: return "violated";
    case Outcome::known: return "known";
    case Outcome::not_applicable: return "n/a";
  }
  return "?";
}

namespace {

std::optional<Outcome> parse_outcome(std::string_view name) {
  for (Outcome o : {Outcome::holds, Outcome::violated, Outcome::known, Outcome::not_applicable})
    if (outcome_name(o) == name) return o;
  return std::nullopt;
}

// What a profile is documented to do to one invariant: a design claim of it
// (the matrix shows "violated") or a known kernel bug of its code ("known").
struct Expectation {
  std::string id;  // the claim's or the bug's id
  std::string_view invariant, clause;
  Outcome outcome;
  std::string what;  // for the trace's header note
};

std::vector<Expectation> expectations_of(const spec::ProfileTraits& t) {
  std::vector<Expectation> out;
  for (const auto* c : spec::design_claims_of(t.profile))
    out.push_back({std::string(c->id), c->invariant, c->clause, Outcome::violated,
                   fmt::format("design claim, {}", c->source)});
  for (const auto* b : spec::known_bugs(t))
    out.push_back({std::string(b->id), b->invariant, b->clause, Outcome::known,
                   fmt::format("known kernel bug, fixed by {}", b->fix)});
  return out;
}

// What the profile's claims and known bugs say invariant `id` does there.
Outcome expected_outcome(const spec::ProfileTraits& t, const spec::InvariantInfo& info) {
  if (!spec::checked_in(info, t.profile)) return Outcome::not_applicable;
  Outcome out = Outcome::holds;
  for (const auto& e : expectations_of(t)) {
    if (e.invariant != info.id) continue;
    // A design result outranks a kernel bug in the same cell.
    if (e.outcome == Outcome::violated || out == Outcome::holds) out = e.outcome;
  }
  return out;
}

CampaignOptions campaign_for(const DesignsOptions& options, spec::Profile profile, int runs) {
  CampaignOptions c;
  c.seed = options.seed;
  c.runs = runs;
  c.max_steps = options.max_steps;
  c.configs.profile = profile;
  if (trace::impl_models(profile)) {
    c.subject = impl_factory();
    c.subject_name = "impl";
  } else {
    // The profile runs on the reference alone: a second reference instance
    // stands in as the subject (results and snapshots agree trivially), so
    // the campaign is the invariants on every step.
    c.subject = reference_factory();
    c.subject_name = "reference";
  }
  return c;
}

// The trace file with a note in its header saying what it shows.
std::string with_note(const std::string& jsonl, const std::string& note) {
  auto eol = jsonl.find('\n');
  Json header = Json::parse(jsonl.substr(0, eol));
  header["note"] = note;
  return header.dump() + jsonl.substr(eol);
}

std::string write_trace(const DesignsOptions& options, const std::string& name,
                        const std::string& jsonl) {
  if (options.trace_dir.empty()) return {};
  std::filesystem::create_directories(options.trace_dir);
  const std::string path = (std::filesystem::path(options.trace_dir) / (name + ".jsonl")).string();
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << jsonl;
  out.close();
  if (!out) throw std::runtime_error(fmt::format("cannot write {}", path));
  return path;
}

std::set<std::string> invariants_in(const StepFailure& failure) {
  std::set<std::string> ids;
  for (const auto& v : failure.violations) ids.insert(v.invariant);
  if (ids.empty()) {
    // A disagreement or a model failure names no invariant: report it on the
    // message's invariant ids if it has any.
    static const std::regex id("INV-[A-Z-]+");
    for (auto it = std::sregex_iterator(failure.message.begin(), failure.message.end(), id);
         it != std::sregex_iterator(); ++it)
      ids.insert(it->str());
  }
  return ids;
}

void say(const DesignsOptions& options, const std::string& line) {
  if (options.progress) options.progress(line);
}

// A bundled scenario of `profile` whose replay on the reference shows the
// expectation `cr` (the first in name order), when the search found none. A
// race trace counts: a known bug that only an interleaving reaches (v5.10's
// root_charge_skipped) has no sequential trace for the search to find.
ClaimResult scenario_showing(const DesignsOptions& options, spec::Profile profile, ClaimResult cr) {
  if (options.scenario_dir.empty() || !std::filesystem::is_directory(options.scenario_dir))
    return cr;
  std::vector<std::string> paths;
  for (const auto& entry : std::filesystem::directory_iterator(options.scenario_dir))
    if (entry.path().extension() == ".jsonl") paths.push_back(entry.path().string());
  std::sort(paths.begin(), paths.end());
  for (const auto& path : paths) {
    trace::Trace t;
    try {
      t = trace::read_trace_file(path);
    } catch (const std::exception&) {
      continue;  // a scenario that is a bad-input test
    }
    if (!t.has_config || t.config.profile != profile) continue;
    const auto result = trace::replay(t, trace::ModelChoice::reference);
    if (result.exit_code() != 0) continue;
    for (const auto& v : result.violations)
      if (v.violation.design_claim == cr.id || v.violation.known_bug == cr.id) {
        cr.found = true;
        cr.found_by = t.has_races() ? "race scenario" : "scenario";
        cr.trace = path;
        cr.trace_ops = t.ops.size();
        return cr;
      }
  }
  return cr;
}

// The search for the shortest trace of one expectation: a campaign that
// fails on a violation it covers, and RapidCheck's shrinking.
ClaimResult search_claim(const DesignsOptions& options, spec::Profile profile,
                         const Expectation& e, ProfileResult& pr) {
  ClaimResult cr;
  cr.id = e.id;
  cr.kind = e.outcome == Outcome::known ? "known bug" : "design";
  CampaignOptions c = campaign_for(options, profile, options.claim_runs);
  c.fail_on_claim = cr.id;
  CampaignResult r = run_campaign(c);
  if (!r.failure) return scenario_showing(options, profile, cr);
  const auto& failure = r.failure->failure;
  const bool is_claim =
      failure.kind == "violation" &&
      std::any_of(failure.violations.begin(), failure.violations.end(),
                  [&](const spec::Violation& v) {
                    return v.design_claim == cr.id || v.known_bug == cr.id;
                  });
  if (!is_claim) {
    // The search tripped over something nothing covers: a real failure.
    if (pr.failure.empty()) {
      pr.failure = fmt::format("line {}: {}: {}", failure.line, failure.kind, failure.message);
      pr.failure_trace = write_trace(
          options, fmt::format("{}-unexpected", spec::profile_name(profile)),
          with_note(r.failure->trace_jsonl,
                    fmt::format("an unexpected {} on {}: {}", failure.kind,
                                spec::profile_name(profile), failure.message)));
    }
    return cr;
  }
  cr.found = true;
  cr.found_by = "search";
  cr.runs_to_find = r.stats.first_failure_runs.value_or(r.stats.runs);
  cr.trace_ops = r.failure->nr_steps;
  // A known bug can be in several profiles: its trace is the profile's.
  cr.trace = write_trace(
      options,
      e.outcome == Outcome::known ? fmt::format("{}-{}", spec::profile_name(profile), cr.id) : cr.id,
      with_note(r.failure->trace_jsonl,
                fmt::format("{} {} ({}, {}): {}; the shortest trace `memcg-verify designs --seed "
                            "{}` found, shrunk",
                            spec::profile_name(profile), e.invariant, e.clause, cr.id, e.what,
                            options.seed)));
  return cr;
}

ProfileResult run_profile(const DesignsOptions& options, const spec::ProfileTraits& t) {
  ProfileResult pr;
  pr.profile = t.profile;
  pr.modeled = t.modeled;
  if (!t.modeled) return pr;
  const CampaignOptions c = campaign_for(options, t.profile, options.runs);
  pr.subject = c.subject_name;
  say(options, fmt::format("{}: campaign of {} runs (subject: {})", t.name, options.runs,
                           pr.subject));
  CampaignResult main = run_campaign(c);
  pr.runs = main.stats.runs;
  pr.steps = main.stats.steps;
  pr.seconds = main.seconds;
  pr.error = main.error;
  std::set<std::string> failed_invariants;
  if (main.failure) {
    const auto& f = main.failure->failure;
    pr.failure = fmt::format("line {}: {}: {}", f.line, f.kind, f.message);
    failed_invariants = invariants_in(f);
    pr.failure_trace =
        write_trace(options, fmt::format("{}-unexpected", t.name),
                    with_note(main.failure->trace_jsonl,
                              fmt::format("an unexpected {} on {}: {}", f.kind, t.name, f.message)));
  }
  for (const auto& info : spec::invariant_registry()) {
    InvariantResult ir;
    ir.id = std::string(info.id);
    ir.expected = expected_outcome(t, info);
    if (ir.expected == Outcome::not_applicable) {
      ir.outcome = Outcome::not_applicable;
      pr.invariants.push_back(ir);
      continue;
    }
    ir.steps = pr.steps;
    Outcome found = Outcome::holds;
    for (const auto& e : expectations_of(t)) {
      if (e.invariant != info.id) continue;
      say(options, fmt::format("{}: searching for {}", t.name, e.id));
      ClaimResult cr = search_claim(options, t.profile, e, pr);
      if (!cr.found)
        say(options, fmt::format("{}: {} not found in {} runs", t.name, e.id, options.claim_runs));
      else if (cr.found_by == "search")
        say(options, fmt::format("{}: {} found after {} runs ({} operations, shrunk)", t.name, e.id,
                                 cr.runs_to_find, cr.trace_ops));
      else
        say(options, fmt::format("{}: {} shown by the {} {} ({} operations)", t.name, e.id,
                                 cr.found_by, cr.trace, cr.trace_ops));
      if (auto it = main.stats.claims_seen.find(cr.id); it != main.stats.claims_seen.end())
        cr.seen = it->second;
      if (auto it = main.stats.known_bug_violations.find(cr.id);
          it != main.stats.known_bug_violations.end())
        cr.seen = it->second;
      if (cr.found) {
        if (e.outcome == Outcome::violated || found == Outcome::holds) found = e.outcome;
        if (ir.trace.empty()) ir.trace = cr.trace;
      }
      ir.claims.push_back(cr);
    }
    if (failed_invariants.count(ir.id)) {
      found = Outcome::violated;
      ir.unexpected = pr.failure;
      ir.trace = pr.failure_trace;
    }
    ir.outcome = found;
    pr.invariants.push_back(ir);
  }
  return pr;
}

}  // namespace

int DesignsResult::exit_code() const {
  bool undecided = false;
  for (const auto& p : profiles) {
    if (!p.failure.empty()) return 1;
    if (!p.error.empty()) undecided = true;
    for (const auto& i : p.invariants) {
      if (!i.unexpected.empty()) return 1;
      if (i.outcome != i.expected) undecided = true;  // a claimed violation not found
    }
  }
  return undecided ? 3 : 0;
}

std::string DesignsResult::verdict() const {
  std::size_t cells = 0, matching = 0;
  for (const auto& p : profiles)
    for (const auto& i : p.invariants) {
      ++cells;
      matching += i.outcome == i.expected && i.unexpected.empty() ? 1 : 0;
    }
  switch (exit_code()) {
    case 0:
      return fmt::format("OK: all {} cells of the matrix are what the designs' claims say", cells);
    case 1:
      return "FAILED: a violation no design claim covers (see the profile's failure and trace)";
    default:
      return fmt::format(
          "UNDECIDED: {} of {} cells as claimed; the others' claimed violations were not found "
          "within the budget (raise --claim-runs)",
          matching, cells);
  }
}

DesignsResult run_designs(const DesignsOptions& options) {
  DesignsResult result;
  result.seed = options.seed;
  for (const auto& t : spec::all_profiles()) {
    if (!options.only.empty() &&
        std::find(options.only.begin(), options.only.end(), t.profile) == options.only.end())
      continue;
    result.profiles.push_back(run_profile(options, t));
  }
  return result;
}

Json designs_json(const DesignsResult& result) {
  Json profiles = Json::array();
  for (const auto& p : result.profiles) {
    Json invariants = Json::array();
    for (const auto& i : p.invariants) {
      Json claims = Json::array();
      for (const auto& c : i.claims)
        claims.push_back(Json{{"id", c.id},
                              {"kind", c.kind},
                              {"seen_steps", c.seen},
                              {"found", c.found},
                              {"runs_to_find", c.runs_to_find},
                              {"found_by", c.found_by.empty() ? Json(nullptr) : Json(c.found_by)},
                              {"trace", c.trace.empty() ? Json(nullptr) : Json(c.trace)},
                              {"trace_ops", c.trace_ops}});
      invariants.push_back(Json{{"id", i.id},
                                {"outcome", outcome_name(i.outcome)},
                                {"steps", i.steps},
                                {"trace", i.trace.empty() ? Json(nullptr) : Json(i.trace)},
                                {"expected", outcome_name(i.expected)},
                                {"unexpected", i.unexpected.empty() ? Json(nullptr) : Json(i.unexpected)},
                                {"claims", claims}});
    }
    profiles.push_back(Json{{"profile", spec::profile_name(p.profile)},
                            {"modeled", p.modeled},
                            {"subject", p.subject},
                            {"runs", p.runs},
                            {"steps", p.steps},
                            {"seconds", p.seconds},
                            {"invariants", invariants},
                            {"failure", p.failure.empty() ? Json(nullptr) : Json(p.failure)},
                            {"failure_trace", p.failure_trace.empty() ? Json(nullptr) : Json(p.failure_trace)},
                            {"error", p.error.empty() ? Json(nullptr) : Json(p.error)}});
  }
  return Json{{"seed", result.seed},
              {"profiles", profiles},
              {"exit", result.exit_code()},
              {"verdict", result.verdict()}};
}

DesignsResult designs_from_json(const Json& json) {
  auto text = [](const Json& j) { return j.is_null() ? std::string() : j.get<std::string>(); };
  DesignsResult result;
  result.seed = json.at("seed");
  for (const auto& p : json.at("profiles")) {
    ProfileResult pr;
    auto profile = spec::parse_profile(p.at("profile").get<std::string>());
    if (!profile) throw std::runtime_error(fmt::format("unknown profile {}", p.at("profile").dump()));
    pr.profile = *profile;
    pr.modeled = p.at("modeled");
    pr.subject = p.at("subject");
    pr.runs = p.at("runs");
    pr.steps = p.at("steps");
    pr.seconds = p.at("seconds");
    pr.failure = text(p.at("failure"));
    pr.failure_trace = text(p.at("failure_trace"));
    pr.error = text(p.at("error"));
    for (const auto& i : p.at("invariants")) {
      InvariantResult ir;
      ir.id = i.at("id");
      auto outcome = parse_outcome(i.at("outcome").get<std::string>());
      auto expected = parse_outcome(i.at("expected").get<std::string>());
      if (!outcome || !expected) throw std::runtime_error(fmt::format("bad outcome in {}", ir.id));
      ir.outcome = *outcome;
      ir.expected = *expected;
      ir.steps = i.at("steps");
      ir.trace = text(i.at("trace"));
      ir.unexpected = text(i.at("unexpected"));
      for (const auto& c : i.at("claims"))
        ir.claims.push_back(ClaimResult{c.at("id"), c.at("kind"), c.at("seen_steps"),
                                        c.at("found"), c.at("runs_to_find"),
                                        text(c.at("found_by")), text(c.at("trace")),
                                        c.at("trace_ops")});
      pr.invariants.push_back(ir);
    }
    result.profiles.push_back(pr);
  }
  return result;
}

namespace {

std::string cell_text(const InvariantResult& i) {
  switch (i.outcome) {
    case Outcome::holds: return fmt::format("holds ({} steps)", i.steps);
    case Outcome::not_applicable: return "n/a";
    case Outcome::violated:
    case Outcome::known: {
      std::size_t ops = 0;
      for (const auto& c : i.claims)
        if (c.trace == i.trace) ops = c.trace_ops;
      std::string text = std::string(outcome_name(i.outcome));
      if (!i.unexpected.empty()) text = "VIOLATED (unexpected)";
      if (ops) text += fmt::format(" ({} ops)", ops);
      return text;
    }
  }
  return "?";
}

// How the trace of an expectation was found, for the doc.
std::string found_by_text(const ClaimResult& c) {
  if (c.found_by == "scenario")
    return ", a hand-written scenario: the search did not find it within its budget";
  if (c.found_by == "race scenario")
    return ", a hand-written race trace: only an interleaving reaches it, which the sequential "
           "search does not try (memcg-verify explore does)";
  return fmt::format(", found by the search after {} runs and shrunk", c.runs_to_find);
}

// Invariant ids without their "INV-" prefix: the table's column heads.
std::string short_id(std::string_view id) { return std::string(id.substr(4)); }

}  // namespace

std::string designs_table(const DesignsResult& result) {
  std::vector<std::vector<std::string>> rows;
  std::vector<std::string> head = {"profile"};
  for (const auto& info : spec::invariant_registry()) head.push_back(short_id(info.id));
  rows.push_back(head);
  for (const auto& p : result.profiles) {
    std::vector<std::string> row = {std::string(spec::profile_name(p.profile))};
    if (!p.modeled) {
      for (std::size_t i = 0; i < spec::invariant_registry().size(); ++i) row.push_back("not modeled");
    } else {
      for (const auto& i : p.invariants) {
        std::string cell = std::string(outcome_name(i.outcome));
        if (!i.unexpected.empty()) cell = "VIOLATED!";
        else if (i.outcome != i.expected) cell += "?";
        row.push_back(cell);
      }
    }
    rows.push_back(row);
  }
  std::vector<std::size_t> width(head.size(), 0);
  for (const auto& r : rows)
    for (std::size_t c = 0; c < r.size(); ++c) width[c] = std::max(width[c], r[c].size());
  std::string out;
  for (const auto& r : rows) {
    for (std::size_t c = 0; c < r.size(); ++c)
      out += fmt::format("{:<{}}{}", r[c], width[c], c + 1 == r.size() ? "\n" : "  ");
  }
  for (const auto& p : result.profiles) {
    if (!p.modeled) continue;
    out += fmt::format("{}: {} runs, {} steps on the {} in {:.1f} s\n", spec::profile_name(p.profile),
                       p.runs, p.steps, p.subject, p.seconds);
    for (const auto& i : p.invariants)
      for (const auto& c : i.claims)
        out += fmt::format("  {} {}: {}\n", i.id, c.id,
                           c.found ? fmt::format("{} ops in {}{}", c.trace_ops,
                                                 c.trace.empty() ? "(not written)" : c.trace,
                                                 c.found_by.ends_with("scenario") ? " (a scenario)" : "")
                                   : std::string("not found"));
    if (!p.failure.empty()) out += fmt::format("  UNEXPECTED: {} ({})\n", p.failure, p.failure_trace);
    if (!p.error.empty()) out += fmt::format("  could not run: {}\n", p.error);
  }
  out += result.verdict() + "\n";
  return out;
}

std::string render_designs_markdown(const DesignsResult& result) {
  std::string md =
      "<!-- generated by `memcg-verify designs --doc docs/DESIGNS.md` from "
      "scenarios/designs/matrix.json and spec/design_claims.cc; do not edit -->\n"
      "# Designs\n\n"
      "Every design of kernel-memory accounting that the project's seeds describe is a profile "
      "(`spec/profile.h`): its traits, and the few functions of `reference/` (and, for the "
      "per-CPU stocks that differ on the fast path, `impl/`) that really differ. "
      "`memcg-verify designs` runs a campaign on every modeled profile with every invariant, "
      "then searches for the shortest trace of each claim the profile is documented to have "
      "(`spec/design_claims.cc`). A cell of the matrix is `holds` (no violation in the steps "
      "checked), `violated` (the design breaks the invariant as its claim says; the trace shows "
      "how), `known` (a kernel bug the profile's code has), or `n/a` (the invariant speaks about "
      "something the design does not have). The traces are under `scenarios/designs/`; each "
      "header names its profile, and `memcg-verify replay TRACE` runs it on that profile's "
      "model.\n\n";
  md += fmt::format("The matrix below comes from `memcg-verify designs --seed {}`.\n\n", result.seed);
  md += "| profile |";
  for (const auto& info : spec::invariant_registry()) md += fmt::format(" {} |", short_id(info.id));
  md += "\n| --- |";
  for (std::size_t i = 0; i < spec::invariant_registry().size(); ++i) md += " --- |";
  md += "\n";
  for (const auto& p : result.profiles) {
    md += fmt::format("| {} |", spec::profile_name(p.profile));
    if (!p.modeled) {
      for (std::size_t i = 0; i < spec::invariant_registry().size(); ++i) md += " not modeled |";
    } else {
      for (const auto& i : p.invariants) md += fmt::format(" {} |", cell_text(i));
    }
    md += "\n";
  }
  for (const auto& p : result.profiles) {
    const auto& info = spec::design_info(p.profile);
    const auto& t = spec::traits(p.profile);
    md += fmt::format("\n## {}: {}\n\n", t.name, info.title);
    md += fmt::format("*From:* {}. *Model:* {}.\n\n", info.seed, t.kernel_tree);
    md += fmt::format("**The design.** {}\n\n", info.design);
    md += fmt::format("**What was claimed.** {}\n\n", info.claimed);
    if (!p.modeled) {
      md += "**What the matrix shows.** Not modeled yet.\n";
      continue;
    }
    std::vector<std::string> breaks, holds;
    for (const auto& i : p.invariants) {
      if (i.outcome == Outcome::holds) holds.push_back(i.id);
      if (i.outcome != Outcome::violated && i.outcome != Outcome::known) continue;
      std::vector<std::string> how;
      for (const auto& c : i.claims) {
        if (!c.found) continue;
        if (const auto* claim = spec::find_design_claim(c.id))
          how.push_back(fmt::format("design claim `{}`: {} ({}; `{}`, {} operations{}; fixed by {})",
                                    claim->clause, claim->claim, claim->source, c.trace,
                                    c.trace_ops, found_by_text(c), claim->fixed_by));
        else if (const spec::KnownBug* bug = spec::find_known_bug(c.id))
          how.push_back(fmt::format("known kernel bug `{}` (docs/INVARIANTS.md \"Known kernel "
                                    "bugs\"): {} (`{}`, {} operations{}; fixed by {})",
                                    bug->id, bug->title, c.trace, c.trace_ops, found_by_text(c),
                                    bug->fix));
      }
      if (!i.unexpected.empty()) how.push_back(fmt::format("UNEXPECTED: {}", i.unexpected));
      breaks.push_back(fmt::format("- **{}** {}: {}", i.id, outcome_name(i.outcome),
                                   fmt::join(how, "; ")));
    }
    md += fmt::format("**What the matrix shows.** {} runs, {} steps checked on the {}. ", p.runs,
                      p.steps, p.subject == "impl" ? "impl in lock-step with the reference"
                                                   : "reference");
    if (breaks.empty())
      md += "Every invariant that applies holds.\n";
    else
      md += fmt::format("It holds {}; and:\n\n{}\n", fmt::join(holds, ", "), fmt::join(breaks, "\n"));
    for (const auto& i : p.invariants)
      for (const auto& c : i.claims)
        if (!c.found)
          md += fmt::format("\nClaim `{}` was not reproduced within the budget.\n", c.id);
  }
  return md;
}

}  // namespace mv::properties
