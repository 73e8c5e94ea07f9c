// Writes the seed corpora of the fuzz targets (fuzz/README.md):
//   fuzz_seeds OUT_DIR [--programs N] [--steps N] [--seed N]
// - OUT_DIR/fuzz_ops/gen-K: N programs drawn from the campaign's own
//   generator (properties/op_gen.h), encoded (fuzz/op_encoding.h);
// - OUT_DIR/fuzz_ops/mutant-NAME and OUT_DIR/fuzz_trace/mutant-NAME.jsonl:
//   the shrunk counterexample of every catalogued mutant (the mutant
//   campaign, properties/mutants.h), as a program and as a trace.
// The scenarios (scenarios/*.jsonl) are copied into fuzz_trace/ by
// scripts/fuzz.sh --seeds. Deterministic for a seed.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

#include <fmt/format.h>
#include <rapidcheck.h>

#include "fuzz/op_encoding.h"
#include "properties/mutants.h"
#include "properties/op_gen.h"

namespace {

void write_bytes(const std::filesystem::path& path, const std::vector<std::uint8_t>& bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
  if (!out.flush()) {
    std::fprintf(stderr, "fuzz_seeds: cannot write %s\n", path.c_str());
    std::exit(2);
  }
}

// One program from the generator: a configuration, then `steps` recipes each
// drawn for (and applied to) the generation model, as a campaign run does.
mv::fuzz::OpProgram generated_program(std::uint64_t seed, std::size_t steps) {
  rc::Random random(seed);
  mv::fuzz::OpProgram program;
  program.config = mv::properties::gen_config({})(random.split(), 0).value();
  mv::properties::GenState state(program.config);
  for (std::size_t i = 0; i < steps; ++i) {
    auto recipe = mv::properties::gen_recipe(state)(random.split(), 0).value();
    if (!mv::properties::recipe_applicable(state, recipe)) continue;
    mv::properties::apply_recipe(state, recipe);
    program.recipes.push_back(recipe);
  }
  return program;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: fuzz_seeds OUT_DIR [--programs N] [--steps N] [--seed N]\n");
    return 2;
  }
  const std::filesystem::path out(argv[1]);
  std::size_t programs = 40, steps = 60;
  std::uint64_t seed = 1;
  for (int i = 2; i + 1 < argc; i += 2) {
    const std::string flag = argv[i];
    const auto value = std::strtoull(argv[i + 1], nullptr, 10);
    if (flag == "--programs") programs = value;
    else if (flag == "--steps") steps = value;
    else if (flag == "--seed") seed = value;
    else {
      std::fprintf(stderr, "fuzz_seeds: unknown option %s\n", flag.c_str());
      return 2;
    }
  }
  std::filesystem::create_directories(out / "fuzz_ops");
  std::filesystem::create_directories(out / "fuzz_trace");
  for (std::size_t k = 0; k < programs; ++k)
    write_bytes(out / "fuzz_ops" / fmt::format("gen-{:02}", k),
                mv::fuzz::encode_ops(generated_program(seed * 1000 + k, steps)));

  mv::properties::MutantCampaignOptions campaign;
  campaign.seed = seed;
  campaign.runs = 300;
  campaign.guarded = false;  // the failure's recipes are the seed
  std::size_t written = 0;
  for (auto mutant : mv::spec::all_mutants()) {
    // fuzz_ops drives the impl: an overlay's counterexample is not its input.
    if (!mv::spec::mutant_in_layer(mutant, mv::spec::kLayerImpl)) continue;
    auto result = mv::properties::run_mutant_campaign(mutant, campaign);
    if (!result.failure) continue;
    const auto name = std::string(mv::spec::mutant_name(mutant));
    write_bytes(out / "fuzz_ops" / ("mutant-" + name),
                mv::fuzz::encode_ops({result.failure->config, result.failure->recipes}));
    std::ofstream(out / "fuzz_trace" / ("mutant-" + name + ".jsonl"), std::ios::binary)
        << result.failure->trace_jsonl;
    ++written;
  }
  std::printf("fuzz_seeds: %zu generated programs, %zu mutant counterexamples in %s\n", programs,
              written, out.c_str());
  return 0;
}
