// The reference model: a plain sequential model of each modeled profile,
// one function per kernel function (docs/MODEL-v6.6.md is its contract).
#pragma once

#include <memory>

#include "spec/model.h"

namespace mv::reference {

// `paths` must outlive the model; the driver interns paths before applying ops.
// The reference has no injected bugs and no test hooks: the deliberately
// wrong versions live in the impl (impl::make_impl_model), so reading
// reference/ shows only the kernel.
std::unique_ptr<spec::Model> make_reference_model(const spec::Config& config,
                                                  const spec::PathTable& paths);

}  // namespace mv::reference
