#include "properties/mutants.h"

#include <algorithm>
#include <sstream>
#include <stdexcept>

#include <fmt/format.h>

#include "kernel/kernel_subject.h"
#include "properties/campaign_chunks.h"
#include "properties/campaign_guard.h"
#include "properties/failure_trace.h"
#include "trace/replay.h"
#include "trace/snapshot_json.h"
#include "trace/trace_reader.h"

namespace mv::properties {

namespace {

// The header's `note` says how to replay the counterexample.
void add_note(RunFailure& failure, spec::Mutant mutant, const MutantCampaignOptions& options) {
  if (options.kernel) {
    const auto found_by = fmt::format("mutant {} in the kernel's code (memcg-verify mutants --kernel --seed {})",
                                      spec::mutant_name(mutant), options.seed);
    failure.trace_jsonl = with_header_note(
        failure.trace_jsonl, replay_note(found_by, "reference,kernel", spec::Mutant::none) + options.kernel_flags);
    return;
  }
  if (spec::mutant_in_layer(mutant, spec::kLayerOverlay)) {
    const auto found_by = fmt::format("mutant {}, an overlay of the reference (memcg-verify mutants --seed {})",
                                      spec::mutant_name(mutant), options.seed);
    failure.trace_jsonl = with_header_note(failure.trace_jsonl, replay_note(found_by, "reference", mutant));
    return;
  }
  const auto found_by = fmt::format(
      "mutant {} in the {} (memcg-verify mutants --seed {}{})", spec::mutant_name(mutant),
      options.invariants_only ? "impl, and the impl in the reference's seat" : "impl", options.seed,
      options.invariants_only ? " --invariants-only" : "");
  failure.trace_jsonl = with_header_note(
      failure.trace_jsonl, replay_note(found_by, options.invariants_only ? "impl" : "both", mutant));
}

}  // namespace

MutantResult run_mutant_campaign(spec::Mutant mutant, const MutantCampaignOptions& options) {
  MutantResult result;
  result.mutant = mutant;
  // A mutant that reverts a fix runs on a profile that has the fix; in a
  // kernel tree's code the tree's profile (the patch applied, so it changes
  // that code).
  const auto profile = options.kernel ? std::optional<spec::Profile>(options.configs.profile)
                                      : spec::mutant_profile(mutant, options.configs.profile);
  if (!profile) {
    result.error = fmt::format("applies to no modeled profile ({})",
                               spec::mutant_info(mutant).applies_text);
    return result;
  }
  result.profile = *profile;
  CampaignOptions campaign;
  campaign.seed = options.seed;
  campaign.runs = options.runs;
  campaign.max_steps = options.max_steps;
  campaign.configs = options.configs;
  campaign.configs.profile = *profile;
  campaign.subject = impl_factory(mutant);
  campaign.subject_name = "impl";
  // An overlay (a mutant of a profile the impl does not model) is the
  // reference with one path mutated: it takes both seats, as its replay
  // (`replay --model reference --mutant NAME`) runs it alone, so only an
  // invariant kills it, with or without --invariants-only.
  const bool overlay = spec::mutant_in_layer(mutant, spec::kLayerOverlay);
  if (overlay) {
    campaign.subject = overlay_factory(mutant);
    campaign.subject_name = "overlay";
  }
  if (options.kernel) {
    campaign.subject = [kernel = options.kernel](const spec::Config& config, const spec::PathTable& paths) {
      return kernel->make_model(config, paths);
    };
    campaign.subject_name = "kernel";
  }
  // Full snapshots every step, and the mutated impl's own Monitor: its
  // invariant violations are reported beside a disagreement.
  campaign.mode = CheckMode::full;
  campaign.monitor_subject = true;
  if (options.invariants_only || overlay) campaign.reference_seat_mutant = mutant;

  campaign.watchdog_seconds = options.watchdog_seconds;
  auto outcome = options.guarded ? run_campaign_guarded(campaign) : run_campaign(campaign);
  result.seconds = outcome.seconds;
  result.runs = outcome.stats.runs;
  result.steps = outcome.stats.steps;
  if (outcome.passed) return result;  // survived
  if (!outcome.failure) {
    result.error = outcome.error;
    return result;
  }
  result.killed = true;
  result.failure = outcome.failure;
  result.reproduce_token = outcome.reproduce_token;
  const auto& f = outcome.failure->failure;
  result.kind = f.kind;
  result.message = f.message;
  for (const auto& v : f.subject_violations)
    if (std::find(result.invariants.begin(), result.invariants.end(), v.invariant) ==
        result.invariants.end())
      result.invariants.push_back(v.invariant);
  result.shrunk_steps = outcome.failure->nr_steps;
  add_note(*result.failure, mutant, options);
  result.runs_to_kill = outcome.stats.first_failure_runs.value_or(0);
  result.steps_to_kill = outcome.stats.first_failure_steps;
  result.seconds_to_kill = outcome.stats.first_failure_seconds;
  return result;
}

trace::Json mutant_result_json(const MutantResult& r) {
  return trace::Json{{"mutant", std::string(spec::mutant_name(r.mutant))},
                     {"profile", std::string(spec::profile_name(r.profile))},
                     {"killed", r.killed},
                     {"error", r.error},
                     {"kind", r.kind},
                     {"message", r.message},
                     {"invariants", r.invariants},
                     {"runs_to_kill", r.runs_to_kill},
                     {"steps_to_kill", r.steps_to_kill},
                     {"seconds_to_kill", r.seconds_to_kill},
                     {"shrunk_steps", r.shrunk_steps},
                     {"seconds", r.seconds},
                     {"runs", r.runs},
                     {"steps", r.steps},
                     {"failure", r.failure ? run_failure_json(*r.failure) : trace::Json(nullptr)},
                     {"reproduce", r.reproduce_token}};
}

MutantResult mutant_result_from_json(const trace::Json& j) {
  MutantResult r;
  auto mutant = spec::parse_mutant(j.at("mutant").get<std::string>());
  if (!mutant) throw std::runtime_error("unknown mutant in a mutant result");
  r.mutant = *mutant;
  auto profile = spec::parse_profile(j.at("profile").get<std::string>());
  if (!profile) throw std::runtime_error("unknown profile in a mutant result");
  r.profile = *profile;
  r.killed = j.at("killed");
  r.error = j.at("error");
  r.kind = j.at("kind");
  r.message = j.at("message");
  r.invariants = j.at("invariants").get<std::vector<std::string>>();
  r.runs_to_kill = j.at("runs_to_kill");
  r.steps_to_kill = j.at("steps_to_kill");
  r.seconds_to_kill = j.at("seconds_to_kill");
  r.shrunk_steps = j.at("shrunk_steps");
  r.seconds = j.at("seconds");
  r.runs = j.at("runs");
  r.steps = j.at("steps");
  if (!j.at("failure").is_null()) r.failure = run_failure_from_json(j.at("failure"));
  r.reproduce_token = j.at("reproduce");
  return r;
}

std::string killed_by_text(const MutantResult& r) {
  if (!r.killed) return "-";
  std::string invariants;
  for (const auto& id : r.invariants) invariants += fmt::format("{}{}", invariants.empty() ? "" : ", ", id);
  if (r.kind == "violation") return invariants.empty() ? std::string("violation") : invariants;
  if (invariants.empty()) return r.kind;
  return fmt::format("{} (same step as the {})", invariants, r.kind);
}

bool replay_reproduces(const MutantResult& r, bool invariants_only, std::string* why,
                       std::shared_ptr<const kernel::KernelSubject> kernel) {
  auto say = [why](std::string text) {
    if (why) *why = std::move(text);
    return false;
  };
  if (!r.failure) return say("no counterexample");
  std::istringstream in(r.failure->trace_jsonl);
  auto trace = trace::read_trace(in, fmt::format("mutant-{}.jsonl", spec::mutant_name(r.mutant)));
  if (trace.error) return say(fmt::format("the trace does not read back: {}", trace.error->what()));
  const auto choice = kernel            ? trace::ModelChoice::reference_kernel
                      : spec::mutant_in_layer(r.mutant, spec::kLayerOverlay) ? trace::ModelChoice::reference
                      : invariants_only ? trace::ModelChoice::impl
                                        : trace::ModelChoice::both;
  // `replay --mutant auto` replays what the header note names: it must be this
  // (a kernel mutant is a patched tree, named by --kernel-mutant, not --mutant).
  const auto hint = replay_hint(trace.header_note);
  const std::string_view model = trace::model_choice_name(choice);
  const std::string_view mutant = kernel ? std::string_view() : spec::mutant_name(r.mutant);
  if (hint.mutant != mutant || hint.model != model)
    return say(fmt::format("the header note says --model {} --mutant {}, not --model {} --mutant {}",
                           hint.model, hint.mutant, model, mutant));
  auto replayed = trace::replay(trace, choice, kernel ? spec::Mutant::none : r.mutant, kernel);
  const std::size_t line = r.failure->failure.line;
  std::optional<std::size_t> failed_at;
  if (replayed.model_failure) failed_at = replayed.model_failure->line;
  else if (replayed.disagreement) failed_at = replayed.disagreement->line;
  else if (!replayed.violations.empty()) failed_at = replayed.violations.front().line;
  if (!failed_at) return say(fmt::format("the replay passes: {}", replayed.verdict()));
  if (*failed_at != line)
    return say(fmt::format("the replay fails at line {}, the campaign at line {}: {}", *failed_at,
                           line, replayed.verdict()));
  return true;
}

}  // namespace mv::properties
