// What the kernel model sees that the impl-vs-reference campaign cannot: a
// slip in arith/, which the reference and the impl share. With the slip
// `refill_obj_stock_at_page_size` of arith/slips.h in the impl, and that impl
// also in the reference's seat (reference/ has no mutants), the two agree and
// every invariant holds (the slipped rule still conserves every count); the
// kernel's own code, which shares nothing with arith/, disagrees. The control:
// the correct reference and the kernel model agree on the same campaign.
// Skipped when the build has no kernel tree.
#include <gtest/gtest.h>

#include "kernel/kernel_subject.h"
#include "kernel/tree_build.h"
#include "properties/campaign.h"

namespace mv::properties {
namespace {

constexpr auto kSlip = spec::Mutant::refill_obj_stock_at_page_size;

CampaignOptions campaign(const ModelFactory& subject, std::string name, spec::Mutant reference_seat_mutant,
                         spec::Profile profile) {
  CampaignOptions o;
  o.seed = 7;
  o.runs = 300;
  o.max_steps = 150;
  o.configs = ConfigChoice{profile, 2, 4096};
  o.subject = subject;
  o.subject_name = std::move(name);
  o.reference_seat_mutant = reference_seat_mutant;
  return o;
}

TEST(PropertiesKernel, AnArithSlipSharedByReferenceAndImplIsCaughtOnlyByTheKernelModel) {
  if (kernel::default_kernel_model().empty()) GTEST_SKIP() << "this build has no kernel tree";
  auto subject = kernel::KernelSubject::open({});
  const auto profile = subject->profile();
  auto shared = run_campaign(campaign(impl_factory(kSlip), "impl", kSlip, profile));
  EXPECT_TRUE(shared.passed) << (shared.failure ? shared.failure->failure.message : shared.error);

  ModelFactory kernel_model = [subject](const spec::Config& c, const spec::PathTable& p) {
    return subject->make_model(c, p);
  };
  auto control = run_campaign(campaign(kernel_model, "kernel", spec::Mutant::none, profile));
  EXPECT_TRUE(control.passed) << (control.failure ? control.failure->failure.message : control.error);

  auto caught = run_campaign(campaign(kernel_model, "kernel", kSlip, profile));
  ASSERT_FALSE(caught.passed);
  ASSERT_TRUE(caught.failure);
  EXPECT_EQ(caught.failure->failure.kind, "disagreement") << caught.failure->failure.message;
  EXPECT_LE(caught.failure->nr_steps, 20u) << caught.failure->table;
}

}  // namespace
}  // namespace mv::properties
