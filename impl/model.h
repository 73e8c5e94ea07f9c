// The optimized per-CPU implementation (issue 3), behind the same Model
// interface as the reference so that replay and the properties compare them.
#pragma once

#include <memory>

#include "spec/model.h"
#include "spec/mutant.h"

namespace mv::impl {

// Whether the impl has the per-CPU code of a profile (the others run on the
// reference only: docs/DESIGNS.md).
bool models_profile(spec::Profile profile);

std::unique_ptr<spec::Model> make_impl_model(const spec::Config& config,
                                             const spec::PathTable& paths);
// The same with one injected bug (spec/mutant.h; Mutant::none is the model
// above). std::invalid_argument if the mutant has no impl version.
std::unique_ptr<spec::Model> make_impl_model(const spec::Config& config,
                                             const spec::PathTable& paths, spec::Mutant mutant);

}  // namespace mv::impl
