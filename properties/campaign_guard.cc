#include "properties/campaign_guard.h"

#include <chrono>
#include <string>

#include <fmt/format.h>

#include "kernel/isolated_model.h"
#include "properties/campaign_chunks.h"
#include "properties/watched_child.h"

namespace mv::properties {

namespace {

// The subject in a child process of its own for every run, each step
// answered within the watchdog's time; a subject that cannot even start is a
// model whose every answer is that failure (Conformance reports it at line 1).
class UnstartedModel final : public spec::Model {
 public:
  UnstartedModel(std::string name, std::string why) : name_(std::move(name)), why_(std::move(why)) {}
  spec::Errno apply(const spec::Op&) override { throw std::runtime_error(why_); }
  spec::Snapshot snapshot() const override { throw std::runtime_error(why_); }
  std::string_view name() const override { return name_; }

 private:
  std::string name_, why_;
};

ModelFactory isolated(const ModelFactory& subject, const std::string& name, double watchdog_seconds) {
  kernel::IsolationLimits limits;
  limits.step_timeout = std::chrono::milliseconds(static_cast<long long>(watchdog_seconds * 1000));
  return [subject, name, limits](const spec::Config& config, const spec::PathTable& paths)
             -> std::unique_ptr<spec::Model> {
    try {
      return kernel::make_isolated_model(subject, config, paths, name, limits);
    } catch (const std::exception& e) {
      return std::make_unique<UnstartedModel>(name, e.what());
    }
  };
}

}  // namespace

CampaignResult run_campaign_guarded(const CampaignOptions& options) {
  Shared<std::atomic<std::uint64_t>> shared;
  if (!shared.get()) return run_campaign(options);
  ChildEnd end;
  try {
    end = run_watched(
        [&] {
          campaign_heartbeat_counter = shared.get();
          return chunk_result_json(ChunkResult{0, run_campaign(options), {}}).dump();
        },
        *shared.get(), options.watchdog_seconds);
  } catch (const std::runtime_error&) {
    return run_campaign(options);  // no pipe or no fork: unguarded
  }
  if (end.reported) {
    try {
      auto result = chunk_result_from_json(trace::Json::parse(end.report)).result;
      if (result.passed) result.missing_marks = marks_never_hit(result.marks, options.configs.profile);
      return result;
    } catch (const std::exception&) {
      end.reported = false;  // a report cut short: as if it had died writing it
    }
  }
  // The subject crashed or looped: the same campaign again, each subject in
  // a child, finds the run and the step, here.
  CampaignOptions again = options;
  again.subject = isolated(options.subject, options.subject_name, options.watchdog_seconds);
  if (end.hung) again.shrink = false;
  auto result = run_campaign(again);
  const std::string what = end_text(end, options.watchdog_seconds);
  if (result.failure) {
    if (end.hung && options.shrink)
      result.failure->failure.message +=
          fmt::format(" (not shrunk: every try of a looping step costs the watchdog's {} s)",
                      options.watchdog_seconds);
    return result;
  }
  result.passed = false;
  result.missing_marks.clear();
  result.error = fmt::format(
      "the campaign's process {}, but the campaign again with the {} in a child process of its own "
      "did not fail{}",
      what, options.subject_name, result.error.empty() ? std::string() : ": " + result.error);
  return result;
}

}  // namespace mv::properties
