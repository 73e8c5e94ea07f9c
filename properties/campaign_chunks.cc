#include "properties/campaign_chunks.h"

#include <algorithm>
#include <charconv>
#include <map>
#include <stdexcept>

#include <fmt/format.h>

#include "properties/campaign_guard.h"
#include "properties/worker_pool.h"

namespace mv::properties {

using trace::Json;

std::size_t campaign_chunks(int runs) {
  if (runs <= 0) return 1;
  return std::clamp<std::size_t>((static_cast<std::size_t>(runs) + 99) / 100, 1, 256);
}

std::uint64_t chunk_seed(std::uint64_t seed, std::size_t chunk, std::size_t chunks) {
  if (chunks == 1) return seed;
  // splitmix64 of (seed, chunk): independent streams for neighbouring chunks.
  std::uint64_t z = seed + 0x9e3779b97f4a7c15ull * (chunk + 1);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

int chunk_runs(int runs, std::size_t chunk, std::size_t chunks) {
  const auto begin = static_cast<long long>(runs) * static_cast<long long>(chunk) / static_cast<long long>(chunks);
  const auto end = static_cast<long long>(runs) * static_cast<long long>(chunk + 1) / static_cast<long long>(chunks);
  return static_cast<int>(end - begin);
}

std::optional<Shard> parse_shard(const std::string& text) {
  const auto slash = text.find('/');
  if (slash == std::string::npos) return std::nullopt;
  Shard shard;
  auto parse = [](std::string_view s, std::size_t& out) {
    auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
    return ec == std::errc() && end == s.data() + s.size() && !s.empty();
  };
  const std::string_view view(text);
  if (!parse(view.substr(0, slash), shard.index) || !parse(view.substr(slash + 1), shard.count))
    return std::nullopt;
  if (shard.count == 0 || shard.index >= shard.count) return std::nullopt;
  return shard;
}

std::vector<std::size_t> shard_chunks(std::size_t chunks, const Shard& shard) {
  std::vector<std::size_t> out;
  for (std::size_t c = shard.index; c < chunks; c += shard.count) out.push_back(c);
  return out;
}

namespace {

Json stats_json(const CampaignStats& s) {
  Json allocs = Json::array();
  for (const auto& kind : s.allocs) allocs.push_back(Json{kind[0], kind[1]});
  return Json{{"runs", s.runs},
              {"steps", s.steps},
              {"max_live_objects", s.max_live_objects},
              {"ops", s.ops},
              {"allocs", allocs},
              {"cross_cpu_frees", s.cross_cpu_frees},
              {"claims_seen", s.claims_seen},
              {"known_bug_violations", s.known_bug_violations},
              {"first_failure_runs", s.first_failure_runs ? Json(*s.first_failure_runs) : Json(nullptr)},
              {"first_failure_steps", s.first_failure_steps},
              {"first_failure_seconds", s.first_failure_seconds}};
}

CampaignStats stats_from_json(const Json& j) {
  CampaignStats s;
  s.runs = j.at("runs");
  s.steps = j.at("steps");
  s.max_live_objects = j.at("max_live_objects");
  const auto& ops = j.at("ops");
  if (ops.size() != s.ops.size()) throw std::runtime_error("\"ops\" has the wrong length");
  for (std::size_t i = 0; i < s.ops.size(); ++i) s.ops[i] = ops[i];
  const auto& allocs = j.at("allocs");
  if (allocs.size() != s.allocs.size()) throw std::runtime_error("\"allocs\" has the wrong length");
  for (std::size_t i = 0; i < s.allocs.size(); ++i) s.allocs[i] = {allocs[i].at(0), allocs[i].at(1)};
  s.cross_cpu_frees = j.at("cross_cpu_frees");
  if (j.contains("claims_seen"))
    s.claims_seen = j.at("claims_seen").get<std::map<std::string, std::uint64_t>>();
  if (j.contains("known_bug_violations"))
    s.known_bug_violations = j.at("known_bug_violations").get<std::map<std::string, std::uint64_t>>();
  if (!j.at("first_failure_runs").is_null()) s.first_failure_runs = j.at("first_failure_runs").get<std::uint64_t>();
  s.first_failure_steps = j.at("first_failure_steps");
  s.first_failure_seconds = j.at("first_failure_seconds");
  return s;
}

}  // namespace

Json run_failure_json(const RunFailure& f) {
  Json violations = Json::array();
  for (const auto& v : f.failure.subject_violations)
    violations.push_back(Json{{"invariant", v.invariant}, {"message", v.message}});
  return Json{{"cpus", f.config.ncpus},
              {"page_size", f.config.page_size_bytes},
              {"profile", std::string(spec::profile_name(f.config.profile))},
              {"line", f.failure.line},
              {"kind", f.failure.kind},
              {"message", f.failure.message},
              {"subject_violations", violations},
              {"steps", f.nr_steps},
              {"table", f.table},
              {"trace_jsonl", f.trace_jsonl}};
}

RunFailure run_failure_from_json(const Json& j) {
  RunFailure f;
  f.config.ncpus = j.at("cpus");
  f.config.page_size_bytes = j.at("page_size");
  auto profile = spec::parse_profile(j.at("profile").get<std::string>());
  if (!profile) throw std::runtime_error("unknown profile in a failure");
  f.config.profile = *profile;
  f.failure.line = j.at("line");
  f.failure.kind = j.at("kind");
  f.failure.message = j.at("message");
  for (const auto& v : j.at("subject_violations"))
    f.failure.subject_violations.push_back({v.at("invariant"), v.at("message")});
  f.nr_steps = j.at("steps");
  f.table = j.at("table");
  f.trace_jsonl = j.at("trace_jsonl");
  return f;
}

Json chunk_result_json(const ChunkResult& c) {
  const auto& r = c.result;
  return Json{{"chunk", c.index},
              {"passed", r.passed},
              {"error", r.error},
              {"problem", c.problem},
              {"stats", stats_json(r.stats)},
              {"seconds", r.seconds},
              {"marks", r.marks},
              {"failure", r.failure ? run_failure_json(*r.failure) : Json(nullptr)},
              {"rapidcheck_message", r.rapidcheck_message},
              {"reproduce", r.reproduce_token}};
}

ChunkResult chunk_result_from_json(const Json& j) {
  try {
    ChunkResult c;
    c.index = j.at("chunk");
    auto& r = c.result;
    r.passed = j.at("passed");
    r.error = j.at("error");
    c.problem = j.at("problem");
    r.stats = stats_from_json(j.at("stats"));
    r.seconds = j.at("seconds");
    const auto& marks = j.at("marks");
    if (marks.size() != r.marks.size()) throw std::runtime_error("\"marks\" has the wrong length");
    for (std::size_t i = 0; i < r.marks.size(); ++i) r.marks[i] = marks[i];
    if (!j.at("failure").is_null()) r.failure = run_failure_from_json(j.at("failure"));
    r.rapidcheck_message = j.at("rapidcheck_message");
    r.reproduce_token = j.at("reproduce");
    return c;
  } catch (const Json::exception& e) {
    throw std::runtime_error(fmt::format("not a chunk report: {}", e.what()));
  }
}

MergedCampaign merge_chunks(std::vector<ChunkResult> chunks, const std::vector<std::size_t>& expected) {
  std::map<std::size_t, ChunkResult> by_index;
  for (auto& c : chunks) {
    if (std::find(expected.begin(), expected.end(), c.index) == expected.end())
      throw std::runtime_error(fmt::format("chunk {} is not part of this campaign", c.index));
    const auto index = c.index;
    if (!by_index.emplace(index, std::move(c)).second)
      throw std::runtime_error(fmt::format("chunk {} reported twice", index));
  }
  MergedCampaign merged;
  auto& out = merged.result;
  out.passed = true;
  for (std::size_t index : expected) {
    auto it = by_index.find(index);
    if (it == by_index.end()) {
      merged.missing.push_back(index);
      continue;
    }
    if (!merged.missing.empty()) continue;  // undecided anyway; keep listing the gaps
    const auto& c = it->second;
    const auto& r = c.result;
    ++merged.chunks_counted;
    auto& s = out.stats;
    const auto runs_before = s.runs, steps_before = s.steps;
    const double seconds_before = out.seconds;
    s.runs += r.stats.runs;
    s.steps += r.stats.steps;
    s.max_live_objects = std::max(s.max_live_objects, r.stats.max_live_objects);
    for (std::size_t k = 0; k < s.ops.size(); ++k) s.ops[k] += r.stats.ops[k];
    for (std::size_t k = 0; k < s.allocs.size(); ++k)
      for (std::size_t f = 0; f < 2; ++f) s.allocs[k][f] += r.stats.allocs[k][f];
    s.cross_cpu_frees += r.stats.cross_cpu_frees;
    for (const auto& [claim, n] : r.stats.claims_seen) s.claims_seen[claim] += n;
    for (const auto& [bug, n] : r.stats.known_bug_violations) s.known_bug_violations[bug] += n;
    out.seconds += r.seconds;
    for (std::size_t m = 0; m < out.marks.size(); ++m) out.marks[m] += r.marks[m];
    if (!c.problem.empty()) {
      out.passed = false;
      out.error = fmt::format("chunk {}: {}", index, c.problem);
      break;
    }
    if (r.passed) continue;
    out.passed = false;
    out.error = r.error;
    out.failure = r.failure;
    out.rapidcheck_message = r.rapidcheck_message;
    out.reproduce_token = r.reproduce_token;
    if (r.stats.first_failure_runs) {
      s.first_failure_runs = runs_before + *r.stats.first_failure_runs;
      s.first_failure_steps = steps_before + r.stats.first_failure_steps;
      s.first_failure_seconds = seconds_before + r.stats.first_failure_seconds;
    }
    break;
  }
  if (!merged.missing.empty()) {
    out.passed = false;
    out.failure.reset();
    out.error = fmt::format("{} chunk{} of {} did not report (first: chunk {})", merged.missing.size(),
                            merged.missing.size() == 1 ? "" : "s", expected.size(),
                            merged.missing.front());
  }
  if (out.passed)
    for (std::size_t i = 0; i < spec::kNrMarks; ++i)
      if (out.marks[i] == 0) out.missing_marks.push_back(spec::mark_at(i));
  return merged;
}

std::vector<ChunkResult> run_chunks(const CampaignOptions& options, const std::vector<std::size_t>& which,
                                    unsigned jobs) {
  const std::size_t nr_chunks = campaign_chunks(options.runs);
  auto run_one = [&](std::size_t chunk) {
    CampaignOptions one = options;
    one.seed = chunk_seed(options.seed, chunk, nr_chunks);
    one.runs = chunk_runs(options.runs, chunk, nr_chunks);
    one.progress = nullptr;
    ChunkResult c{chunk, run_campaign_guarded(one), {}};
    return c;
  };
  std::map<std::size_t, ChunkResult> results;
  std::optional<std::size_t> first_failed;
  // Whether every chunk of `which` below the first failure has reported.
  auto settled = [&] {
    if (!first_failed) return false;
    for (auto c : which)
      if (c < *first_failed && !results.count(c)) return false;
    return true;
  };
  auto done = [&](const TaskOutput& out) {
    ChunkResult c;
    if (!out.ok) {
      c.index = out.task;
      c.problem = out.problem;
    } else {
      c = chunk_result_from_json(Json::parse(out.text));
    }
    const bool failed = !c.problem.empty() || !c.result.passed;
    if (failed && (!first_failed || c.index < *first_failed)) first_failed = c.index;
    results.emplace(c.index, std::move(c));
    if (options.progress) {
      CampaignStats so_far;
      for (const auto& [i, r] : results) so_far.steps += r.result.stats.steps;
      options.progress(results.size(), so_far);
    }
    return !settled();
  };
  run_tasks(which, jobs, [&](std::size_t chunk) { return chunk_result_json(run_one(chunk)).dump(); },
            done);
  std::vector<ChunkResult> out;
  for (auto& [index, c] : results)
    if (!first_failed || index <= *first_failed) out.push_back(std::move(c));
  return out;
}

}  // namespace mv::properties
