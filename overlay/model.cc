// The overlay model: the reference's state and dispatch, with one mutant's
// overlay in front of the dispatch (overlay/overlay.h).
#include "overlay/overlay.h"

#include <stdexcept>
#include <utility>

#include <fmt/format.h>

#include "reference/model.h"

namespace mv::overlay {

namespace {

struct Entry {
  spec::Mutant mutant;
  OverlayFn apply;    // nullptr: every operation is the reference's
  OverlayBootFn boot;  // nullptr: the kernel boots as the reference's
};

// Every overlay mutant of spec/mutant.cc, with its overlay.
constexpr Entry kOverlays[] = {
    {spec::Mutant::cache_put_before_alloc, cache_put_before_alloc, nullptr},
    {spec::Mutant::stock_cached_unreferenced, nullptr, stock_cached_unreferenced},
};

const Entry* overlay_of(spec::Mutant mutant) {
  for (const auto& e : kOverlays)
    if (e.mutant == mutant) return &e;
  return nullptr;
}

class OverlayModel final : public spec::Model {
 public:
  OverlayModel(const spec::Config& config, const spec::PathTable& paths, const Entry& overlay)
      : kernel_(reference::boot_kernel(config, paths)), overlay_(overlay.apply) {
    if (overlay.boot) overlay.boot(kernel_);
  }
  spec::Errno apply(const spec::Op& op) override {
    if (overlay_)
      if (auto result = overlay_(kernel_, op)) return *result;
    return reference::apply_op(kernel_, op);
  }
  spec::Snapshot snapshot() const override { return reference::take_snapshot(kernel_); }
  // The same name as the reference's: replay and check report the model in
  // the reference's seat, and the mutant beside it.
  std::string_view name() const override { return "reference"; }
  bool set_scheduler(spec::Scheduler* scheduler) override {
    kernel_.sched = scheduler;
    return true;
  }

 private:
  reference::Kernel kernel_;
  OverlayFn overlay_;
};

}  // namespace

bool is_overlay(spec::Mutant mutant) { return spec::mutant_in_layer(mutant, spec::kLayerOverlay); }

std::unique_ptr<spec::Model> make_overlay_model(const spec::Config& config,
                                                const spec::PathTable& paths, spec::Mutant mutant) {
  if (auto problem = spec::config_problem(config); !problem.empty())
    throw std::invalid_argument(problem);
  const Entry* overlay = is_overlay(mutant) ? overlay_of(mutant) : nullptr;
  if (!overlay)
    throw std::invalid_argument(
        fmt::format("mutant {} is not an overlay of the reference", spec::mutant_name(mutant)));
  if (!spec::mutant_applies(mutant, config.profile_traits()))
    throw std::invalid_argument(fmt::format("mutant {} does not apply to profile {}",
                                            spec::mutant_name(mutant),
                                            spec::profile_name(config.profile)));
  return std::make_unique<OverlayModel>(config, paths, *overlay);
}

}  // namespace mv::overlay
