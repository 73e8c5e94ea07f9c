// The hooks build of impl/ (CMake target mv_impl_sched): the same sources
// compiled with MV_IMPL_SCHED_HOOKS=1, in namespace mv::impl_sched, so that it
// links next to the plain build. Every interposition point, preemption point
// and RCU read-side section of that build calls the scheduler given to
// Model::set_scheduler (one scheduled model at a time: the hook is global).
// Only this factory is visible from outside: the rest of that build is the
// plain impl under another name.
#pragma once

#include <memory>

#include "spec/model.h"
#include "spec/mutant.h"

namespace mv::impl_sched {

// make_impl_model (impl/model.h) of the hooks build.
std::unique_ptr<spec::Model> make_impl_model(const spec::Config& config,
                                             const spec::PathTable& paths, spec::Mutant mutant);

}  // namespace mv::impl_sched
