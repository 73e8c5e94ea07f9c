// A campaign whose subject cannot take the checker down (issue 12 item 7):
// whatever the subject does (throws, trips an assertion, indexes out of
// range, segfaults, loops forever), the campaign ends in a failure with the
// trace of the failing run, never in a signal or a hang of memcg-verify.
//
// run_campaign_guarded runs the campaign (properties/campaign.h) in a child
// process that beats a heartbeat at every checked step. The parent watches
// it: when the child dies (a signal, an abort, exit()) or makes no step for
// CampaignOptions::watchdog_seconds (a loop), the parent runs the same
// campaign again, deterministically from its seed, with each run's subject
// in a child of its own (kernel/isolated_model.h): the runs before the
// failing one pass again, and the failing one fails at its step as a "model
// failure" whose message names the signal or the timeout, shrunk as any
// failure (a loop: not shrunk, every try of a looping step would cost the
// watchdog's time again). The reference and the checker run in this process
// throughout: they are trusted. A subject that throws needs none of this
// (Conformance reports it as a model failure in the run).
//
// The cost when nothing goes wrong: one fork and one report per campaign
// (the failure's recipes, RunFailure::recipes, do not cross; nothing that
// runs a guarded campaign needs them).
#pragma once

#include "properties/campaign.h"
#include "properties/campaign_heartbeat.h"

namespace mv::properties {

// run_campaign, guarded as above. Without fork(), run_campaign itself.
CampaignResult run_campaign_guarded(const CampaignOptions& options);

}  // namespace mv::properties
