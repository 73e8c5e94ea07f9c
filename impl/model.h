// The optimized per-CPU implementation (issue 3), behind the same Model
// interface as the reference so that replay and the properties compare them.
#pragma once

#include <memory>

#include "spec/model.h"

namespace mv::impl {

std::unique_ptr<spec::Model> make_impl_model(const spec::Config& config,
                                             const spec::PathTable& paths);

}  // namespace mv::impl
