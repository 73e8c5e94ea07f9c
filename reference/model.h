// The reference model: a plain sequential model of each modeled profile,
// one function per kernel function (docs/MODEL-v6.6.md is its contract).
#pragma once

#include <memory>

#include "spec/model.h"
#include "spec/mutant.h"

namespace mv::reference {

// `paths` must outlive the model; the driver interns paths before applying ops.
std::unique_ptr<spec::Model> make_reference_model(const spec::Config& config,
                                                  const spec::PathTable& paths);
// The same with one injected bug (spec/mutant.h; Mutant::none is the model
// above). std::invalid_argument if the mutant has no reference layer.
std::unique_ptr<spec::Model> make_reference_model(const spec::Config& config,
                                                  const spec::PathTable& paths,
                                                  spec::Mutant mutant);

}  // namespace mv::reference
