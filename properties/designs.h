// The design matrix (`memcg-verify designs`): a campaign on every modeled
// profile with every invariant, and for each design claim of the profile
// (spec/design_claims.h) a search for the shortest trace that shows it. The
// result is a table profile x invariant: holds (steps checked), violated (the
// design's documented result, with its shrunk trace), known (a kernel bug the
// profile's code has), n/a (the invariant does not apply), or an unexpected
// violation (a bug of the model or of the spec: the command fails).
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "properties/campaign.h"
#include "spec/design_claims.h"
#include "spec/profile.h"

namespace mv::properties {

enum class Outcome : std::uint8_t { holds, violated, known, not_applicable };
std::string_view outcome_name(Outcome outcome);  // "holds", "violated", "known", "n/a"

struct DesignsOptions {
  std::uint64_t seed = 1;
  int runs = 300;         // the main campaign's runs per profile
  int max_steps = 120;    // RapidCheck's max_size
  int claim_runs = 1500;  // the budget of the search for one claim's trace
  // Where the claims' traces go (created if missing); empty: not written.
  std::string trace_dir = "scenarios/designs";
  // The bundled scenarios: when the search does not find an expectation
  // within its budget, a scenario of the profile that shows it stands in
  // (a hand-written trace, not shrunk). Empty: none.
  std::string scenario_dir = "scenarios";
  std::vector<spec::Profile> only;  // empty: every modeled profile
  std::function<void(const std::string& line)> progress;
};

// The search for one expectation of a profile: a design claim
// (spec/design_claims.h) or a known kernel bug (spec/known_bug.h).
struct ClaimResult {
  std::string id;              // spec::DesignClaim::id or spec::KnownBug::id
  std::string kind;            // "design" or "known bug"
  std::uint64_t seen = 0;      // violations of the main campaign it covered
  bool found = false;          // the search found a trace
  std::uint64_t runs_to_find = 0;
  // "search" (the campaign found it, shrunk), "scenario" (a bundled
  // hand-written scenario shows it; the search did not find it in budget) or
  // "race scenario" (a bundled race trace: only an interleaving reaches it).
  std::string found_by;
  std::string trace;           // the trace file (trace_dir/PROFILE-CLAIM.jsonl or the scenario)
  std::size_t trace_ops = 0;   // operations in it (the shrunk run)
};

struct InvariantResult {
  std::string id;
  Outcome outcome = Outcome::holds;
  Outcome expected = Outcome::holds;  // what the profile's claims say
  std::uint64_t steps = 0;            // steps checked by the main campaign
  std::vector<ClaimResult> claims;
  std::string unexpected;  // an unexplained violation of it: the message
  std::string trace;       // the shortest trace of its outcome, if violated or known
};

struct ProfileResult {
  spec::Profile profile = spec::Profile::v6_6;
  bool modeled = false;
  std::string subject;  // "impl" (lock-step with the reference) or "reference"
  std::uint64_t runs = 0, steps = 0;
  double seconds = 0;
  std::vector<InvariantResult> invariants;
  std::string failure;        // an unexpected failure of the main campaign: what
  std::string failure_trace;  // and its shrunk trace
  std::string error;          // the campaign could not run
};

struct DesignsResult {
  std::uint64_t seed = 0;
  std::vector<ProfileResult> profiles;
  // 0 every outcome as the claims say, 1 an unexpected violation or
  // disagreement, 3 a claimed violation not found within the budget.
  int exit_code() const;
  std::string verdict() const;
};

DesignsResult run_designs(const DesignsOptions& options);

// The contract JSON: {"seed":..,"profiles":[{"profile":"v5.2","modeled":true,
// "invariants":[{"id":..,"outcome":..,"steps":..,"trace":..}]}]} and more fields.
nlohmann::ordered_json designs_json(const DesignsResult& result);
DesignsResult designs_from_json(const nlohmann::ordered_json& json);
std::string designs_table(const DesignsResult& result);

// docs/DESIGNS.md from a matrix (designs_json, as committed in
// scenarios/designs/matrix.json) and the spec: a paragraph per design (what
// its seed claimed, what the matrix shows), then the table.
std::string render_designs_markdown(const DesignsResult& result);

}  // namespace mv::properties
