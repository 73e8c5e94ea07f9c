// Process isolation for any model: the model runs in a child process (forked
// from this one, so it starts from this process's state and has globals of
// its own), and a proxy here presents it as a spec::Model. A subject that
// crashes (a signal), loops (a step that does not return in time) or stops
// on an assertion (a thrown exception, e.g. the kernel model's BUG_ON) makes
// the proxy throw std::runtime_error naming what happened and the operation
// it happened in: callers (trace replay, the conformance runner) report that
// as a model failure of the subject with the trace up to that step, and
// shrinking goes on, since every new model is a new child.
//
// Generic: the child builds its model with any factory (reference, impl,
// kernel). One round trip per operation; the proxy asks the child for the
// snapshot its caller will want next (the summary or the full snapshot) with
// the operation, so a step costs one round trip.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <string>

#include "spec/model.h"

namespace mv::kernel {

using ChildFactory =
    std::function<std::unique_ptr<spec::Model>(const spec::Config&, const spec::PathTable&)>;

struct IsolationLimits {
  // A step (or the model's construction, four times this) that has not
  // answered by then is a hang: the child is killed.
  std::chrono::milliseconds step_timeout{5000};
};

// Forks a child that builds its model with `factory` over a copy of `paths`
// (paths interned here later are sent along with each operation). `name` is
// what the proxy's name() says. Throws std::runtime_error if the child could
// not start its model (the factory's message, or how the child died).
std::unique_ptr<spec::Model> make_isolated_model(const ChildFactory& factory,
                                                 const spec::Config& config,
                                                 const spec::PathTable& paths, std::string name,
                                                 IsolationLimits limits = {});

}  // namespace mv::kernel
