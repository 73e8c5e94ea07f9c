// memcg-verify live: the experiments of live/experiments.h on the running
// kernel, each beside the prediction of the model of the profile nearest the
// kernel (sim/ runs the same experiment on its reference model).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "live/experiments.h"
#include "spec/profile.h"

namespace mv::live {

struct Prediction {
  std::int64_t dying = 0;
  std::optional<std::int64_t> after_release;
  std::string basis;  // what predicted it: a simulation, or a kernel fact outside the models
};

struct ExperimentReport {
  Measured measured;
  Prediction predicted;
  bool agree = false;  // within the counter's tolerance, after rmdir and after the release
};

enum class LiveStatus : std::uint8_t {
  ran,
  skipped,  // not permitted or not possible here: `why`
  error,    // an experiment failed part-way (`why`); everything was cleaned up
};
std::string_view live_status_name(LiveStatus status);  // "ran", "skipped", "error"

struct LiveReport {
  LiveStatus status = LiveStatus::skipped;
  std::string why;     // why it was skipped, or what failed
  std::string kernel;  // uname -r
  std::optional<MemoryHierarchy> hierarchy;
  std::string scope_dir;
  std::optional<spec::Profile> profile;  // the modeled profile nearest the kernel
  std::vector<ExperimentReport> experiments;
  bool all_agree() const;
};

// The modeled kernel profile nearest a kernel release: the newest one not
// newer than it, else the oldest (designs that are not a kernel version,
// such as a posted series, are never chosen).
std::optional<spec::Profile> nearest_profile(std::string_view release);

// The model's predictions for each experiment on a profile.
Prediction predict_stack_loop(spec::Profile profile, std::uint32_t iterations);
Prediction predict_user_pages_control(std::uint32_t cgroups);
Prediction predict_kmem_dead(spec::Profile profile, std::uint32_t cgroups);

// Runs everything, or says why not (not root, no memory controller, ...);
// an experiment that fails part-way is status error, after the clean-up.
LiveReport run_live(const ExperimentSizes& sizes);

nlohmann::json live_json(const LiveReport& report);
std::string live_table(const LiveReport& report);
// One line: ran and every experiment agrees (or which do not), skipped or
// error and why (all --quiet prints).
std::string live_verdict(const LiveReport& report);
std::string live_tap(const LiveReport& report);

}  // namespace mv::live
