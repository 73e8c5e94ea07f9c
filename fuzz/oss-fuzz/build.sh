#!/bin/bash -eu
# OSS-Fuzz / ClusterFuzzLite build of the memcg-verify fuzz targets
# (fuzz/README.md). The engine's environment gives the compilers and flags:
# $CC $CXX $CFLAGS $CXXFLAGS (sanitizer and coverage flags), $LIB_FUZZING_ENGINE
# (the engine to link: -fsanitize=fuzzer for libFuzzer), $SRC (the checkout's
# parent), $OUT (where targets, seed corpora and dictionaries go), $WORK.
#
# Locally, the way the engine calls it:
#   CC=clang-14 CXX=clang++-14 CFLAGS=-fsanitize=address,fuzzer-no-link \
#   CXXFLAGS=-fsanitize=address,fuzzer-no-link LIB_FUZZING_ENGINE=-fsanitize=fuzzer \
#   SRC=$PWD/.. OUT=/tmp/out WORK=/tmp/work fuzz/oss-fuzz/build.sh
src=${MV_SRC:-$SRC/memcg-verify}
build=$WORK/build
cmake -S "$src" -B "$build" -DCMAKE_BUILD_TYPE=Release \
  -DCMAKE_C_COMPILER="$CC" -DCMAKE_CXX_COMPILER="$CXX" \
  -DCMAKE_C_FLAGS="$CFLAGS" -DCMAKE_CXX_FLAGS="$CXXFLAGS" \
  -DCMAKE_EXE_LINKER_FLAGS="$CXXFLAGS" \
  -DMV_FUZZ_ENGINE="$LIB_FUZZING_ENGINE"
cmake --build "$build" --target fuzz_trace fuzz_ops -j"$(nproc)"

for target in fuzz_trace fuzz_ops; do
  cp "$build/$target" "$OUT/"
  (cd "$src/fuzz/corpus/$target" && zip -q -r "$OUT/${target}_seed_corpus.zip" .)
done
# The scenarios are trace seeds too.
(cd "$src/scenarios" && zip -q "$OUT/fuzz_trace_seed_corpus.zip" ./*.jsonl)
cp "$src/fuzz/trace.dict" "$OUT/fuzz_trace.dict"
# fuzz_ops inputs are at most 1 + 6 * 256 bytes (fuzz/op_encoding.h).
printf '[libfuzzer]\nmax_len = 1537\n' > "$OUT/fuzz_ops.options"
printf '[libfuzzer]\nmax_len = 8192\ndict = fuzz_trace.dict\n' > "$OUT/fuzz_trace.options"
