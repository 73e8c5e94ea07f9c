#include "explore/harness.h"

#include <algorithm>
#include <array>
#include <cstdio>
#include <random>
#include <stdexcept>

#include <fmt/format.h>

#include "trace/driver.h"

namespace mv::explore {

std::size_t Harness::nr_ops() const {
  std::size_t n = 0;
  for (const auto& t : threads) n += t.size();
  return n;
}

std::string Harness::full_name() const {
  std::string out = name;
  for (const auto& d : dropped) out += "~" + d;
  return out;
}

namespace {

// The original place of operation i of a list from which `dropped` (those
// with `prefix`) were removed.
std::size_t original_place(const std::vector<std::string>& dropped, const std::string& prefix,
                           std::size_t i) {
  std::vector<std::size_t> gone;
  for (const auto& d : dropped)
    if (d.rfind(prefix, 0) == 0) gone.push_back(std::stoul(d.substr(prefix.size())));
  std::sort(gone.begin(), gone.end());
  std::size_t place = 0, kept = 0;
  for (;; ++place) {
    if (std::binary_search(gone.begin(), gone.end(), place)) continue;
    if (kept++ == i) return place;
  }
}

}  // namespace

void drop_setup_op(Harness& h, std::size_t i) {
  h.dropped.push_back("s" + std::to_string(original_place(h.dropped, "s", i)));
  h.setup.erase(h.setup.begin() + static_cast<long>(i));
}

void drop_thread_op(Harness& h, std::size_t thread, std::size_t i) {
  const std::string prefix = fmt::format("t{}.", thread);
  h.dropped.push_back(prefix + std::to_string(original_place(h.dropped, prefix, i)));
  h.threads[thread].erase(h.threads[thread].begin() + static_cast<long>(i));
}

HarnessBuilder::HarnessBuilder(std::string name, std::string about, std::uint32_t cpus,
                               spec::Profile profile) {
  h_.name = std::move(name);
  h_.about = std::move(about);
  h_.config.ncpus = cpus;
  h_.config.profile = profile;
}

trace::TraceOp HarnessBuilder::line(const std::string& text) {
  try {
    return trace::read_trace_line(text, h_.config, h_.names, next_line_++);
  } catch (const std::invalid_argument& e) {
    throw std::invalid_argument(fmt::format("harness {}: {}: {}", h_.name, text, e.what()));
  }
}

HarnessBuilder& HarnessBuilder::setup(const std::vector<std::string>& lines) {
  for (const auto& text : lines) h_.setup.push_back(line(text));
  return *this;
}

HarnessBuilder& HarnessBuilder::thread(const std::vector<std::string>& lines) {
  h_.threads.emplace_back();
  for (const auto& text : lines) h_.threads.back().push_back(line(text));
  return *this;
}

std::string resolve_harness(Harness& h) {
  if (h.threads.size() > h.config.ncpus)
    return fmt::format("{} threads on {} CPUs", h.threads.size(), h.config.ncpus);
  trace::Driver driver(h.config);
  auto resolve = [&](trace::Driver& d, trace::TraceOp& op) -> std::string {
    auto resolved = d.resolve(op, h.names);
    if (!resolved.op) return resolved.problem;
    op.op = *resolved.op;
    d.observe(op.op, spec::Errno::ok, op.line);
    return {};
  };
  for (auto& op : h.setup)
    if (auto problem = resolve(driver, op); !problem.empty()) return problem;
  for (std::uint32_t k = 0; k < h.threads.size(); ++k) {
    trace::Driver d = driver;
    for (auto& op : h.threads[k]) {
      if (auto problem = resolve(d, op); !problem.empty()) return problem;
      auto cpu = d.runs_on(op.op);
      if (cpu && *cpu != k)
        return fmt::format("thread {}'s {} runs on CPU {}", k, spec::op_name(op.op), *cpu);
    }
  }
  return {};
}

Harness HarnessBuilder::build() {
  if (auto problem = resolve_harness(h_); !problem.empty())
    throw std::invalid_argument(fmt::format("harness {}: {}", h_.name, problem));
  return std::move(h_);
}

namespace {

std::vector<Harness> build_catalog() {
  std::vector<Harness> c;
  c.push_back(
      HarnessBuilder("drain_all_vs_drain",
                     "drain_all_stock on CPU 0 reads CPU 1's byte stock while CPU 1 drains and "
                     "refills it (the remote read of stock->cached_objcg: 3b8abb323953)",
                     2)
          .setup({R"({"op":"mkdir","cg":"/a"})", R"({"op":"set_max","cg":"/a","pages":2})",
                  R"({"op":"spawn","task":"t1","cg":"/a","cpu":1})",
                  R"({"op":"alloc","task":"t1","obj":"s1","kind":"slab","size":64})"})
          .thread({R"({"op":"drain_all","cg":"/","cpu":0})"})
          .thread({R"({"op":"drain","cpu":1})",
                   R"({"op":"alloc","task":"t1","obj":"o1","kind":"slab","size":64})"})
          .build());
  c.push_back(
      HarnessBuilder("charge_vs_offline",
                     "a task's kmem charge on CPU 0 while CPU 1 migrates the task away, removes "
                     "its cgroup and runs the offline (objcg->memcg read against reparenting: "
                     "eefbfa7fd678)",
                     2)
          .setup({R"({"op":"mkdir","cg":"/a"})", R"({"op":"spawn","task":"t0","cg":"/a","cpu":0})"})
          .thread({R"({"op":"alloc","task":"t0","obj":"o0","kind":"page","order":0})"})
          .thread({R"({"op":"migrate","task":"t0","cg":"/","cpu":1})",
                   R"({"op":"rmdir","cg":"/a","cpu":1})", R"({"op":"quiesce"})"})
          .build());
  c.push_back(
      HarnessBuilder("requeue_vs_dequeue",
                     "CPU 1 runs deferred work while CPU 0's drain_all queues CPU 1's drain work "
                     "again (a work item re-queued while its runner holds it: c3be344)",
                     2)
          .setup({R"({"op":"mkdir","cg":"/a"})", R"({"op":"spawn","task":"t1","cg":"/a","cpu":1})",
                  R"({"op":"alloc","task":"t1","obj":"s1","kind":"slab","size":64})",
                  R"({"op":"drain_all","cg":"/","cpu":0})", R"({"op":"drain","cpu":1})",
                  R"({"op":"alloc","task":"t1","obj":"s2","kind":"slab","size":64})"})
          .thread({R"({"op":"drain_all","cg":"/","cpu":0})"})
          .thread({R"({"op":"quiesce"})"})
          .build());
  c.push_back(
      HarnessBuilder("alloc_free_2x3",
                     "two CPUs charging, uncharging and draining one cgroup (small enough for the "
                     "whole bounded search)",
                     2)
          .setup({R"({"op":"mkdir","cg":"/a"})", R"({"op":"spawn","task":"t0","cg":"/a","cpu":0})",
                  R"({"op":"spawn","task":"t1","cg":"/a","cpu":1})"})
          .thread({R"({"op":"alloc","task":"t0","obj":"o0","kind":"slab","size":700})",
                   R"({"op":"free","obj":"o0","cpu":0})", R"({"op":"drain_all","cg":"/a","cpu":0})"})
          .thread({R"({"op":"alloc","task":"t1","obj":"o1","kind":"slab","size":3000})",
                   R"({"op":"drain","cpu":1})", R"({"op":"free","obj":"o1","cpu":1})"})
          .build());
  c.push_back(
      HarnessBuilder("rmdir_vs_charge_2x4",
                     "a cgroup removed and offlined on CPU 1 while CPU 0 charges and frees "
                     "through it and its parent",
                     2)
          .setup({R"({"op":"mkdir","cg":"/p"})", R"({"op":"mkdir","cg":"/p/c"})",
                  R"({"op":"spawn","task":"t0","cg":"/p/c","cpu":0})",
                  R"({"op":"alloc","task":"t0","obj":"s0","kind":"slab","size":512})"})
          .thread({R"({"op":"alloc","task":"t0","obj":"o0","kind":"slab","size":200})",
                   R"({"op":"free","obj":"s0","cpu":0})", R"({"op":"free","obj":"o0","cpu":0})",
                   R"({"op":"drain","cpu":0})"})
          .thread({R"({"op":"migrate","task":"t0","cg":"/p","cpu":1})",
                   R"({"op":"rmdir","cg":"/p/c","cpu":1})", R"({"op":"quiesce"})",
                   R"({"op":"drain_all","cg":"/p","cpu":1})"})
          .build());
  // The same race on v5.10 (5.10.13: eefbfa7fd678 in), where the charge that
  // goes through obj_cgroup_charge is a slab object's (a kmem page is charged
  // to the memcg directly there). An objcg reparented to the root before the
  // charge also meets try_charge's early return for the root: the known
  // kernel bug root_charge_skipped (c5c8b16b596e, spec/known_bug.cc).
  c.push_back(
      HarnessBuilder("charge_vs_offline_v5.10",
                     "charge_vs_offline on v5.10: a slab charge through obj_cgroup_charge on CPU 0 "
                     "while CPU 1 migrates the task away, removes its cgroup and runs the offline "
                     "(the css_get of eefbfa7fd678, and a charge of an objcg reparented to the "
                     "root: c5c8b16b596e)",
                     2, spec::Profile::v5_10)
          .setup({R"({"op":"mkdir","cg":"/a"})", R"({"op":"spawn","task":"t0","cg":"/a","cpu":0})"})
          .thread({R"({"op":"alloc","task":"t0","obj":"o0","kind":"slab","size":64})"})
          .thread({R"({"op":"migrate","task":"t0","cg":"/","cpu":1})",
                   R"({"op":"rmdir","cg":"/a","cpu":1})", R"({"op":"quiesce"})"})
          .build());
  return c;
}

}  // namespace

const std::vector<Harness>& harness_catalog() {
  static const std::vector<Harness> catalog = build_catalog();
  return catalog;
}

const Harness* find_harness(std::string_view name) {
  for (const auto& h : harness_catalog())
    if (h.name == name) return &h;
  return nullptr;
}

namespace {

// The random programs: names are per thread, so no two threads share a task
// or an object except where an operation is meant to (migrate of another
// CPU's task, as a write to cgroup.procs from that CPU would).
class RandomHarness {
 public:
  explicit RandomHarness(std::uint64_t seed) : rng_(seed), seed_(seed) {}

  Harness build() {
    const std::uint32_t cpus = pick(2) ? 3 : 2;
    live_.assign(cpus, {});
    std::vector<std::string> setup = {R"({"op":"mkdir","cg":"/a"})", R"({"op":"mkdir","cg":"/b"})",
                                      R"({"op":"mkdir","cg":"/a/c"})"};
    if (pick(2)) setup.push_back(R"({"op":"set_max","cg":"/a","pages":3})");
    for (std::uint32_t k = 0; k < cpus; ++k) {
      setup.push_back(fmt::format(R"({{"op":"spawn","task":"t{}","cg":"{}","cpu":{}}})", k,
                                  kGroups[pick(kGroups.size())], k));
      if (pick(2)) {
        setup.push_back(fmt::format(R"({{"op":"alloc","task":"t{}","obj":"s{}","kind":"slab","size":{}}})",
                                    k, k, kSlabSizes[pick(kSlabSizes.size())]));
        live_[k].push_back(fmt::format("s{}", k));
      }
    }
    HarnessBuilder b(fmt::format("random-{}", seed_),
                     "random operations of every kind a CPU runs, on a few tasks and cgroups", cpus);
    b.setup(setup);
    for (std::uint32_t k = 0; k < cpus; ++k) {
      std::vector<std::string> ops;
      const std::uint64_t n = 2 + pick(3);
      for (std::uint64_t i = 0; i < n; ++i) ops.push_back(op_for(k, cpus, i));
      b.thread(ops);
    }
    return b.build();
  }

 private:
  static constexpr std::array<const char*, 3> kGroups = {"/a", "/b", "/a/c"};
  static constexpr std::array<int, 6> kSlabSizes = {8, 64, 192, 700, 2048, 4000};

  std::uint64_t pick(std::uint64_t n) {
    return std::uniform_int_distribution<std::uint64_t>(0, n - 1)(rng_);
  }
  const char* group() { return kGroups[pick(kGroups.size())]; }

  std::string alloc(std::uint32_t k, std::uint64_t i) {
    std::string obj = fmt::format("o{}_{}", k, i);
    live_[k].push_back(obj);
    switch (pick(4)) {
      case 0:
        return fmt::format(R"({{"op":"alloc","task":"t{}","obj":"{}","kind":"page","order":{}}})", k,
                           obj, pick(2));
      case 1:
        return fmt::format(R"({{"op":"alloc","task":"t{}","obj":"{}","kind":"percpu","size":{}}})",
                           k, obj, 8 * (1 + pick(64)));
      default:
        return fmt::format(R"({{"op":"alloc","task":"t{}","obj":"{}","kind":"slab","size":{}}})", k,
                           obj, kSlabSizes[pick(kSlabSizes.size())]);
    }
  }

  std::string op_for(std::uint32_t k, std::uint32_t cpus, std::uint64_t i) {
    switch (pick(10)) {
      case 0:
      case 1:
      case 2:
        return alloc(k, i);
      case 3:
        if (!live_[k].empty()) {
          auto j = static_cast<long>(pick(live_[k].size()));
          std::string obj = live_[k][static_cast<std::size_t>(j)];
          live_[k].erase(live_[k].begin() + j);
          return fmt::format(R"({{"op":"free","obj":"{}","cpu":{}}})", obj, k);
        }
        return fmt::format(R"({{"op":"drain","cpu":{}}})", k);
      case 4:
        return fmt::format(R"({{"op":"drain","cpu":{}}})", k);
      case 5:
        return fmt::format(R"({{"op":"drain_all","cg":"{}","cpu":{}}})", pick(2) ? "/" : group(), k);
      case 6:
        return fmt::format(R"({{"op":"migrate","task":"t{}","cg":"{}","cpu":{}}})", pick(cpus),
                           pick(3) ? "/" : group(), k);
      case 7:
        return fmt::format(R"({{"op":"rmdir","cg":"{}","cpu":{}}})", group(), k);
      case 8:
        return fmt::format(R"({{"op":"set_max","cg":"{}","pages":{},"cpu":{}}})", group(),
                           pick(2) ? std::string("\"max\"") : std::to_string(1 + pick(4)), k);
      default:
        return R"({"op":"quiesce"})";
    }
  }

  std::mt19937_64 rng_;
  std::uint64_t seed_;
  std::vector<std::vector<std::string>> live_;
};

}  // namespace

Harness random_harness(std::uint64_t seed) { return RandomHarness(seed).build(); }

namespace {

std::optional<Harness> base_harness(std::string_view name);

// "NAME~s2~t1.0": the harness without those operations (by original place).
std::optional<Harness> with_drops(std::string_view full) {
  auto tilde = full.find('~');
  auto h = base_harness(full.substr(0, tilde));
  if (!h || tilde == std::string_view::npos) return h;
  std::vector<std::string> drops;
  for (auto rest = full.substr(tilde + 1); !rest.empty();) {
    auto next = rest.find('~');
    drops.emplace_back(rest.substr(0, next));
    rest = next == std::string_view::npos ? std::string_view{} : rest.substr(next + 1);
  }
  std::vector<std::size_t> setup_gone;
  std::vector<std::vector<std::size_t>> thread_gone(h->threads.size());
  for (const auto& d : drops) {
    std::size_t thread = 0, place = 0;
    if (std::sscanf(d.c_str(), "s%zu", &place) == 1 && d[0] == 's' && place < h->setup.size())
      setup_gone.push_back(place);
    else if (std::sscanf(d.c_str(), "t%zu.%zu", &thread, &place) == 2 && d[0] == 't' &&
             thread < h->threads.size() && place < h->threads[thread].size())
      thread_gone[thread].push_back(place);
    else
      return std::nullopt;
  }
  auto erase_places = [](auto& list, std::vector<std::size_t> places) {
    std::sort(places.rbegin(), places.rend());
    places.erase(std::unique(places.begin(), places.end()), places.end());
    for (auto p : places) list.erase(list.begin() + static_cast<long>(p));
  };
  erase_places(h->setup, setup_gone);
  for (std::size_t t = 0; t < h->threads.size(); ++t) erase_places(h->threads[t], thread_gone[t]);
  h->dropped = drops;
  if (!resolve_harness(*h).empty()) return std::nullopt;
  return h;
}

std::optional<Harness> base_harness(std::string_view name) {
  if (const Harness* h = find_harness(name)) return *h;
  constexpr std::string_view kRandom = "random-";
  if (name.substr(0, kRandom.size()) == kRandom) {
    std::uint64_t seed = 0;
    auto digits = name.substr(kRandom.size());
    if (digits.empty()) return std::nullopt;
    for (char ch : digits) {
      if (ch < '0' || ch > '9') return std::nullopt;
      seed = seed * 10 + static_cast<std::uint64_t>(ch - '0');
    }
    return random_harness(seed);
  }
  return std::nullopt;
}

}  // namespace

std::optional<Harness> harness_named(std::string_view name) { return with_drops(name); }

}  // namespace mv::explore
