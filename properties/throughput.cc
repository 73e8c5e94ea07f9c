#include "properties/throughput.h"

#include <chrono>

#include <rapidcheck.h>

namespace mv::properties {

namespace {

// Draws recipes from the campaign's generator, outside a property.
class RecipeSource {
 public:
  RecipeSource(const spec::Config& config, std::uint64_t seed) : state_(config), random_(seed) {}

  // The next recipe whose kind `accept` takes (after a bounded number of tries,
  // whatever comes), applied to the generation model.
  template <class Accept>
  OpRecipe next(Accept accept) {
    OpRecipe recipe;
    for (int tries = 0; tries < 64; ++tries) {
      recipe = gen_recipe(state_)(random_.split(), 0).value();
      if (accept(recipe.kind)) break;
    }
    apply_recipe(state_, recipe);
    return recipe;
  }
  // A recipe made by hand, applied to the generation model.
  void note(const OpRecipe& recipe) { apply_recipe(state_, recipe); }

 private:
  GenState state_;
  rc::Random random_;
};

}  // namespace

std::vector<ThroughputPoint> measure_throughput(const spec::Config& config, std::uint64_t seed,
                                                const std::vector<std::uint64_t>& targets,
                                                std::uint64_t steps, CheckMode mode,
                                                const ModelFactory& subject,
                                                bool monitor_subject) {
  std::vector<ThroughputPoint> points;
  for (std::uint64_t target : targets) {
    ThroughputPoint point;
    point.target_live_objects = target;
    Conformance sut(config, subject, "impl", mode);
    sut.monitor_subject = monitor_subject;
    RecipeSource source(config, seed + target);
    // Set-up (checked, not timed), the same whatever the target: every cgroup
    // of the pool, a task in four of them, then allocations only.
    for (std::uint32_t path = 1; path < path_pool().size(); ++path) {
      OpRecipe mkdir{OpKind::mkdir};
      mkdir.path = path;
      source.note(mkdir);
      sut.run(mkdir);
    }
    for (std::uint32_t path : {1u, 2u, 4u, 7u}) {
      OpRecipe spawn{OpKind::spawn};
      spawn.path = path;
      spawn.cpu = path;
      source.note(spawn);
      sut.run(spawn);
    }
    while (!sut.failure() && sut.live_objects() < target)
      sut.run(source.next([&](OpKind kind) { return kind == OpKind::alloc; }));
    using Clock = std::chrono::steady_clock;
    Clock::duration timed{};
    double live_sum = 0;
    std::uint64_t done = 0;
    for (std::uint64_t i = 0; i < steps && !sut.failure(); ++i) {
      const std::size_t live = sut.live_objects();
      OpRecipe recipe = source.next([&](OpKind kind) {
        // Freed memcgs and released objcgs stay in every snapshot (docs/DESIGN.md:
        // listed as freed/released), so mkdir/rmdir would make the cost grow
        // with the number of steps; the timed mix keeps the set-up's cgroups.
        if (kind == OpKind::mkdir || kind == OpKind::rmdir) return false;
        if (kind == OpKind::alloc) return live < target;
        if (kind == OpKind::free) return live >= target;
        return true;
      });
      const std::size_t before = sut.steps().size();
      auto start = Clock::now();
      sut.run(recipe);
      timed += Clock::now() - start;
      if (sut.steps().size() == before) continue;  // nothing to act on: not a step
      ++done;
      live_sum += static_cast<double>(sut.live_objects());
    }
    point.steps = done;
    point.memcgs = sut.snapshot().cgroups.size();
    point.objcgs = sut.snapshot().objcgs.size();
    point.seconds = std::chrono::duration<double>(timed).count();
    point.mean_live_objects = done ? live_sum / static_cast<double>(done) : 0;
    sut.verify_full();  // not timed: the claim the summary steps relied on
    if (const auto& f = sut.failure()) {
      point.failed = true;
      point.failure = "line " + std::to_string(f->line) + ": " + f->kind + ": " + f->message;
    }
    points.push_back(point);
  }
  return points;
}

}  // namespace mv::properties
