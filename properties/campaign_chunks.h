// A campaign cut into chunks, so that it spreads over cores (`check --jobs N`)
// and machines (`check --shard I/N`, then `memcg-verify merge`) with the same
// result however it is spread. The cut depends only on the number of runs:
// chunk c of n runs runs [runs*c/n, runs*(c+1)/n) of the campaign as its own
// RapidCheck property (properties/campaign.h) with the seed chunk_seed(seed,
// c) and the campaign's max size (RapidCheck spreads the sizes evenly over a
// chunk's runs, as over a whole campaign's). Chunk 0 of a one-chunk campaign
// has the campaign's seed itself.
//
// The merged verdict reads the chunks in order: the totals (runs, steps, op
// counts, marks) are those of the chunks up to and including the first that
// failed (or gave up), and the failure is that chunk's, shrunk there. Chunks
// after it do not count, so a worker may stop them early. A chunk that did not
// report (a shard not merged, a worker that died) before the first failure
// leaves the campaign undecided.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "properties/campaign.h"
#include "trace/snapshot_json.h"

namespace mv::properties {

// ceil(runs / 100), at most 256: about 100 runs per chunk.
std::size_t campaign_chunks(int runs);
std::uint64_t chunk_seed(std::uint64_t seed, std::size_t chunk, std::size_t chunks);
// The runs of chunk c (they add up to `runs`).
int chunk_runs(int runs, std::size_t chunk, std::size_t chunks);

// --shard I/N: the chunks c with c % N == I (interleaved: each shard gets
// small and large sizes alike).
struct Shard {
  std::size_t index = 0;
  std::size_t count = 1;
};
std::optional<Shard> parse_shard(const std::string& text);  // "I/N", 0 <= I < N
std::vector<std::size_t> shard_chunks(std::size_t chunks, const Shard& shard);

struct ChunkResult {
  std::size_t index = 0;
  CampaignResult result;
  std::string problem;  // the chunk did not report (its worker died): why
};

// A shrunk failure as JSON and back (chunk reports, mutant rows between processes).
trace::Json run_failure_json(const RunFailure& failure);
RunFailure run_failure_from_json(const trace::Json& json);

trace::Json chunk_result_json(const ChunkResult& chunk);
// Throws std::runtime_error (with what is wrong) on a malformed one.
ChunkResult chunk_result_from_json(const trace::Json& json);

struct MergedCampaign {
  CampaignResult result;         // the merged verdict (seconds: summed over the chunks)
  std::size_t chunks_counted = 0;  // chunks up to the first failure
  std::vector<std::size_t> missing;  // chunks needed but absent: undecided
};
// `chunks` in any order, at most one per index; `expected` the chunk indices
// that make the campaign (all of 0..n-1, or one shard's), in order.
MergedCampaign merge_chunks(std::vector<ChunkResult> chunks, const std::vector<std::size_t>& expected);

// Runs the chunks `which` of the campaign `options` on `jobs` processes
// (properties/worker_pool.h), each chunk guarded (properties/campaign_guard.h:
// a subject that crashes or loops fails its chunk), stopping chunks that
// cannot count once a failure is known; returns the chunk results that
// count, in index order.
std::vector<ChunkResult> run_chunks(const CampaignOptions& options, const std::vector<std::size_t>& which,
                                    unsigned jobs);

}  // namespace mv::properties
