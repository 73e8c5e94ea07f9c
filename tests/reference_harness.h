// Test harness for tests/reference_*_test.cc: the model harness on the
// reference model.
#pragma once

#include "reference/model.h"
#include "tests/model_harness.h"

namespace mv::reference::testing {

using spec::Errno;

class Sim : public mv::testing::ModelSim {
 public:
  explicit Sim(std::uint32_t ncpus = 4, std::uint64_t page_size_bytes = 4096,
               spec::Profile profile = spec::Profile::v6_6)
      : ModelSim([](const spec::Config& c,
                    const spec::PathTable& p) { return make_reference_model(c, p); },
                 ncpus, page_size_bytes, profile) {}
};

}  // namespace mv::reference::testing
