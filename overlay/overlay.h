// Mutants of the profiles the impl does not model (v5.2, v5.3,
// davydov-2014): there the reference runs alone, and the reference has no mutant
// hooks (reading reference/ shows only the kernel). A mutant of such a
// profile is an overlay: a thin model over the reference's own state
// (reference::Kernel) that hands every operation to reference::apply_op,
// except the operations whose kernel path the mutant changes; for those it
// runs the path rebuilt from the reference's own functions (the ones its
// headers export), with the one mutated step. So an overlay is a few lines
// that read like the kernel function they break, next to the reference's.
//
// To add one: a mutant with layer spec::kLayerOverlay in spec/mutant.cc, and
// an OverlayFn in the file of overlay/ named after the reference file of the
// function it wraps (overlay/kmem_cache.cc wraps reference/kmem_cache.cc's
// kmem_cache_alloc), listed in overlay/model.cc's table. An overlay returns
// nullopt for an operation it leaves to the reference. If the step it changes
// sits below a function the reference does not export, export that function
// (as a kernel function, with its kernel comment): never add a switch to the
// reference.
//
// A mutant that is the profile's own code before one of its fixes, where
// the reference already models both sides of the fix as a profile trait
// (reference::Kernel::code_traits), is an overlay that boots the reference
// with the traits of the unfixed code instead (an OverlayBootFn): the
// kernel as it was released, judged by the spec as the fixed profile.
#pragma once

#include <memory>
#include <optional>

#include "reference/kernel_state.h"
#include "spec/model.h"
#include "spec/mutant.h"

namespace mv::overlay {

// The mutated path of one operation, or nullopt: the reference's.
using OverlayFn = std::optional<spec::Errno> (*)(reference::Kernel& k, const spec::Op& op);
// What the overlay changes in the booted kernel (its code's traits).
using OverlayBootFn = void (*)(reference::Kernel& k);

// Whether `mutant` is an overlay (its catalog entry's layer).
bool is_overlay(spec::Mutant mutant);

// The reference model of `config` with the overlay of `mutant`.
// std::invalid_argument for a mutant that is not an overlay, or that does not
// change the profile (spec::mutant_applies), or for a bad config. `paths`
// must outlive the model.
std::unique_ptr<spec::Model> make_overlay_model(const spec::Config& config,
                                                const spec::PathTable& paths, spec::Mutant mutant);

// The overlays, one file each.
std::optional<spec::Errno> cache_put_before_alloc(reference::Kernel& k, const spec::Op& op);
void stock_cached_unreferenced(reference::Kernel& k);

}  // namespace mv::overlay
