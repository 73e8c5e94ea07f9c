// A tiny driver for `valgrind --tool=callgrind`: N slab alloc + free pairs of
// a 64-byte object on the byte-stock hit path (the same pair as
// BM_impl_hit). Instructions per pair = (Ir(N2) - Ir(N1)) / (N2 - N1): the
// difference cancels setup and teardown. scripts/bench.sh does the arithmetic.
#include <cstdio>
#include <cstdlib>

#include "impl/kmem.h"
#include "impl/model.h"
#include "impl/system.h"

int main(int argc, char** argv) {
  using namespace mv;
  if (argc < 2 || argc > 4) {
    std::fprintf(stderr, "usage: %s NR_PAIRS [OBJECT_SIZE_BYTES [PROFILE]]\n", argv[0]);
    return 2;
  }
  long nr_pairs = std::strtol(argv[1], nullptr, 10);
  // 64: the byte-stock hit path; 4088 (4096 charged): the page-stock path.
  std::uint64_t size_bytes = argc >= 3 ? std::strtoull(argv[2], nullptr, 10) : 64;
  spec::Config config;
  config.ncpus = 4;
  // v6.6 by default; v5.10: the other fast path the impl has.
  auto profile = spec::parse_profile(argc == 4 ? argv[3] : "v6.6");
  if (!profile || !impl::models_profile(*profile)) {
    std::fprintf(stderr, "%s: the impl has no profile %s\n", argv[0], argc == 4 ? argv[3] : "");
    return 2;
  }
  config.profile = *profile;
  spec::PathTable paths;
  spec::PathKey a = *paths.intern("/a");
  impl::System sys(config, paths);
  impl::Cpu& cpu = sys.cpu(0);
  impl::Task task;
  sys.mkdir(cpu, a);
  sys.spawn(cpu, task, a, 0);
  impl::Object keep, obj;
  impl::slab_alloc(cpu, task, keep, 64, false);  // warm both stocks
  for (long i = 0; i < nr_pairs; ++i) {
    impl::slab_alloc(cpu, task, obj, size_bytes, false);
    impl::slab_free(cpu, obj);
    asm volatile("" ::: "memory");
  }
  std::printf("%ld pairs, byte stock %u\n", nr_pairs, cpu.stock().nr_bytes);
  return 0;
}
