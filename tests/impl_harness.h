// Test harness for tests/impl_*_test.cc: the model harness on the impl (or
// on the reference, for side-by-side checks).
#pragma once

#include "impl/model.h"
#include "reference/model.h"
#include "tests/model_harness.h"

namespace mv::impl::testing {

using mv::testing::Factory;
using spec::Errno;

inline Factory impl_factory() {
  return [](const spec::Config& c, const spec::PathTable& p) { return make_impl_model(c, p); };
}
inline Factory reference_factory() {
  return [](const spec::Config& c, const spec::PathTable& p) {
    return reference::make_reference_model(c, p);
  };
}

class Sim : public mv::testing::ModelSim {
 public:
  explicit Sim(std::uint32_t ncpus = 4, std::uint64_t page_size_bytes = 4096,
               const Factory& factory = impl_factory(),
               spec::Profile profile = spec::Profile::v6_6)
      : ModelSim(factory, ncpus, page_size_bytes, profile) {}
};

}  // namespace mv::impl::testing
