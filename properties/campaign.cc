#include "properties/campaign.h"

#include <chrono>
#include <sstream>

#include <fmt/format.h>

#include "properties/failure_trace.h"

namespace mv::properties {

namespace {

constexpr const char* kPropertyId = "memcg-verify check";

class ProgressListener final : public rc::detail::TestListener {
 public:
  ProgressListener(const CampaignOptions& options, const CampaignStats& stats)
      : options_(options), stats_(stats) {}
  void onTestCaseFinished(const rc::detail::CaseDescription&) override {
    ++runs_;
    if (options_.progress) options_.progress(runs_, stats_);
  }
  void onShrinkTried(const rc::detail::CaseDescription&, bool) override {}
  void onTestFinished(const rc::detail::TestMetadata&, const rc::detail::TestResult&) override {}

 private:
  const CampaignOptions& options_;
  const CampaignStats& stats_;
  std::uint64_t runs_ = 0;
};

void count_steps(const Conformance& sut, CampaignStats& stats) {
  stats.runs += 1;
  stats.steps += sut.steps().size();
  stats.max_live_objects = std::max<std::uint64_t>(stats.max_live_objects, sut.live_objects());
  for (const auto& [bug, n] : sut.known_violations()) stats.known_bug_violations[bug] += n;
  std::vector<std::optional<spec::Cpu>> alloc_cpu;  // by ObjKey
  for (const auto& [claim, seen] : sut.claims_seen()) stats.claims_seen[claim] += seen.count;
  for (const auto& step : sut.steps()) {
    stats.ops[step.op.index()] += 1;
    if (const auto* alloc = std::get_if<spec::Alloc>(&step.op)) {
      stats.allocs[static_cast<std::size_t>(alloc->kind)][alloc->nofail ? 1 : 0] += 1;
      if (alloc_cpu.size() <= alloc->obj) alloc_cpu.resize(alloc->obj + 1);
      alloc_cpu[alloc->obj] = step.cpu;
    }
    if (const auto* free = std::get_if<spec::Free>(&step.op))
      if (free->obj < alloc_cpu.size() && alloc_cpu[free->obj] && *alloc_cpu[free->obj] != free->cpu)
        stats.cross_cpu_frees += 1;
  }
}

}  // namespace

void OpCommand::checkPreconditions(const GenState& state) const {
  RC_PRE(recipe_applicable(state, recipe_));
}

void OpCommand::apply(GenState& state) const { apply_recipe(state, recipe_); }

void OpCommand::run(const GenState&, Conformance& sut) const { sut.run(recipe_); }

void OpCommand::show(std::ostream& os) const { os << describe_recipe(recipe_); }

void conformance_property(const PropertyOptions& options) {
  const spec::Config config = *gen_config(options.configs);
  Conformance sut(config, options.subject, options.subject_name, options.mode,
                  options.reference_seat_mutant);
  sut.monitor_subject = options.monitor_subject;
  sut.fail_on_claim = options.fail_on_claim;
  rc::state::check(GenState(config), sut, [](const GenState& state) {
    return rc::state::gen::execOneOfWithArgs<OpCommand>()(state);
  });
  sut.verify_full();
  if (options.stats) count_steps(sut, *options.stats);
  const auto& failure = sut.failure();
  if (!failure) return;
  if (options.stats && !options.stats->first_failure_runs) {
    auto& stats = *options.stats;
    stats.first_failure_runs = stats.runs;
    stats.first_failure_steps = stats.steps;
    stats.first_failure_seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - stats.start).count();
  }
  if (options.last_failure)
    *options.last_failure = RunFailure{config, *failure, sut.steps().size(), steps_table(sut),
                                       trace_jsonl(config, sut.names(), sut.steps()), sut.recipes()};
  RC_FAIL(fmt::format("{} cpus, page size {}: line {}: {}: {}", config.ncpus,
                      config.page_size_bytes, failure->line, failure->kind, failure->message));
}

std::vector<spec::Mark> marks_never_hit(const spec::MarkCounts& marks, spec::Profile profile) {
  std::vector<spec::Mark> missing;
  const auto& traits = spec::traits(profile);
  for (std::size_t i = 0; i < spec::kNrMarks; ++i)
    if (marks[i] == 0 && spec::mark_applies(spec::mark_at(i), traits)) missing.push_back(spec::mark_at(i));
  return missing;
}

CampaignResult run_campaign(const CampaignOptions& options) {
  CampaignResult result;
  auto stats = std::make_shared<CampaignStats>();
  auto last_failure = std::make_shared<std::optional<RunFailure>>();
  PropertyOptions property{.configs = options.configs,
                           .subject = options.subject,
                           .subject_name = options.subject_name,
                           .mode = options.mode,
                           .monitor_subject = options.monitor_subject,
                           .reference_seat_mutant = options.reference_seat_mutant,
                           .fail_on_claim = options.fail_on_claim,
                           .last_failure = last_failure,
                           .stats = stats};

  rc::detail::TestParams params;
  params.seed = options.seed;
  params.maxSuccess = options.runs;
  // RapidCheck's command sequences have 1 to size + 1 commands: size
  // max_steps - 1 makes max_steps the most operations of a run.
  params.maxSize = std::max(options.max_steps - 1, 0);
  params.disableShrinking = !options.shrink;
  rc::detail::TestMetadata metadata;
  metadata.id = kPropertyId;
  metadata.description = "impl conforms to the reference";
  std::unordered_map<std::string, rc::detail::Reproduce> reproduce;
  if (!options.reproduce.empty()) {
    try {
      auto parsed = rc::detail::configFromString(options.reproduce);
      auto it = parsed.reproduce.find(kPropertyId);
      if (it == parsed.reproduce.end()) {
        result.error = "the reproduce token names no `memcg-verify check` failure";
        return result;
      }
      reproduce.emplace(kPropertyId, it->second);
    } catch (const std::exception& e) {
      result.error = fmt::format("bad reproduce token: {}", e.what());
      return result;
    }
  }

  ProgressListener listener(options, *stats);
  const auto start_marks = spec::mark_counts();
  const auto start = std::chrono::steady_clock::now();
  stats->start = start;
  auto test_result = rc::detail::checkProperty(
      rc::detail::toProperty([property] { conformance_property(property); }), metadata, params,
      listener, reproduce);
  result.seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  result.marks = spec::mark_counts_since(start_marks);
  result.stats = *stats;

  if (test_result.is<rc::detail::SuccessResult>()) {
    result.passed = true;
    result.missing_marks = marks_never_hit(result.marks, options.configs.profile);
    return result;
  }
  std::ostringstream message;
  rc::detail::printResultMessage(test_result, message);
  result.rapidcheck_message = message.str();
  if (test_result.is<rc::detail::FailureResult>()) {
    const auto& failure = test_result.get<rc::detail::FailureResult>();
    rc::detail::Configuration token;
    token.reproduce.emplace(kPropertyId, failure.reproduce);
    result.reproduce_token = rc::detail::configToMinimalString(token);
    result.failure = *last_failure;
    if (!result.failure) result.error = "RapidCheck reported a failure the property did not record";
    return result;
  }
  result.error = result.rapidcheck_message;
  return result;
}

}  // namespace mv::properties
