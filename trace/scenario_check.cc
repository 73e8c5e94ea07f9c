#include "trace/scenario_check.h"

#include <algorithm>
#include <fstream>
#include <set>
#include <stdexcept>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "kernel/kernel_subject.h"
#include "spec/known_bug.h"
#include "trace/input_file.h"
#include "trace/report.h"

namespace mv::trace {

namespace {
std::invalid_argument bad(const std::string& what) { return std::invalid_argument(what); }
}  // namespace

Expectation parse_expectation(const Json& doc) {
  if (!doc.is_object()) throw bad("the expectation must be a JSON object");
  Expectation e;
  for (const auto& [key, value] : doc.items()) {
    if (key == "about") continue;
    if (key == "exit") {
      if (!value.is_number_unsigned() || value.get<std::uint64_t>() > 3)
        throw bad("\"exit\" must be 0, 1, 2 or 3");
      e.exit = value.get<int>();
    } else if (key == "checks") {
      if (!value.is_object()) throw bad("\"checks\" must map JSON pointers to values");
      for (const auto& [pointer, expected] : value.items()) {
        try {
          (void)Json::json_pointer(pointer);
        } catch (const Json::exception&) {
          throw bad(fmt::format("check \"{}\" is not a JSON pointer", pointer));
        }
        e.checks.emplace_back(pointer, expected);
      }
    } else if (key == "violations") {
      if (!value.is_array()) throw bad("\"violations\" must be a list of invariant ids");
      std::vector<std::string> ids;
      for (const auto& id : value) {
        if (!id.is_string()) throw bad("\"violations\" must be a list of invariant ids");
        ids.push_back(id.get<std::string>());
      }
      e.violations = std::move(ids);
    } else if (key == "known_bugs") {
      if (!value.is_array()) throw bad("\"known_bugs\" must be a list of known bug ids");
      for (const auto& id : value) {
        if (!id.is_string()) throw bad("\"known_bugs\" must be a list of known bug ids");
        e.known_bugs.push_back(id.get<std::string>());
      }
    } else if (key == "error") {
      if (!value.is_object()) throw bad(R"("error" must be {"line": N, "contains": "text"})");
      for (const auto& [field, v] : value.items()) {
        if (field == "line" && v.is_number_unsigned()) e.error_line = v.get<std::size_t>();
        else if (field == "contains" && v.is_string()) e.error_contains = v.get<std::string>();
        else throw bad(fmt::format("\"error\": unknown or mistyped field \"{}\"", field));
      }
    } else {
      throw bad(fmt::format("unknown field \"{}\"", key));
    }
  }
  if (!doc.contains("exit")) throw bad("missing field \"exit\"");
  return e;
}

Expectation read_expectation_file(const std::filesystem::path& path) {
  if (auto problem = directory_problem(path, "an expectation file"); !problem.empty())
    throw bad(fmt::format("{}: {}", path.string(), problem));
  std::ifstream in(path);
  if (!in) throw bad(fmt::format("{}: cannot open", path.string()));
  try {
    return parse_expectation(Json::parse(in));
  } catch (const Json::exception& e) {
    throw bad(fmt::format("{}: bad JSON: {}", path.string(), e.what()));
  } catch (const std::invalid_argument& e) {
    throw bad(fmt::format("{}: {}", path.string(), e.what()));
  }
}

std::vector<std::string> expectation_mismatches(const Expectation& expect, int exit,
                                                const Json& report) {
  std::vector<std::string> out;
  if (exit != expect.exit) out.push_back(fmt::format("exit status {}, expected {}", exit, expect.exit));
  for (const auto& [pointer, expected] : expect.checks) {
    Json::json_pointer where(pointer);
    if (!report.contains(where)) {
      out.push_back(fmt::format("{}: absent from the report, expected {}", pointer, expected.dump()));
      continue;
    }
    const auto& actual = report.at(where);
    if (actual != expected)
      out.push_back(fmt::format("{}: {}, expected {}", pointer, actual.dump(), expected.dump()));
  }
  auto list = [](const std::set<std::string>& ids) {
    std::string s;
    for (const auto& id : ids) s += fmt::format("{}{}", s.empty() ? "" : ", ", id);
    return s.empty() ? std::string("none") : s;
  };
  std::set<std::string> got_violations, got_known;
  if (report.contains("violations"))
    for (const auto& v : report.at("violations")) {
      if (v.value("known", false))
        got_known.insert(v.value("known_bug", ""));
      else
        got_violations.insert(v.value("invariant", ""));
    }
  if (expect.violations) {
    std::set<std::string> want(expect.violations->begin(), expect.violations->end());
    if (want != got_violations)
      out.push_back(fmt::format("violations: {}, expected {}", list(got_violations), list(want)));
  }
  const std::set<std::string> want_known(expect.known_bugs.begin(), expect.known_bugs.end());
  if (want_known != got_known)
    out.push_back(fmt::format("known bugs: {}, expected {}", list(got_known), list(want_known)));
  if (expect.error_line || expect.error_contains) {
    const auto& error = report.contains("error") ? report.at("error") : Json(nullptr);
    if (error.is_null()) {
      out.push_back("no trace error, expected one");
    } else {
      if (expect.error_line && error.value("line", std::size_t{0}) != *expect.error_line)
        out.push_back(fmt::format("trace error at line {}, expected line {}",
                                  error.value("line", std::size_t{0}), *expect.error_line));
      if (expect.error_contains &&
          error.value("message", std::string()).find(*expect.error_contains) == std::string::npos)
        out.push_back(fmt::format("trace error \"{}\" does not contain \"{}\"",
                                  error.value("message", std::string()), *expect.error_contains));
    }
  }
  return out;
}

std::vector<ScenarioFiles> find_scenarios(const std::filesystem::path& dir) {
  std::vector<ScenarioFiles> out;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    const auto& path = entry.path();
    // A directory named NAME.jsonl is listed, so that scenarios says what it is.
    if (!(entry.is_regular_file() || entry.is_directory()) || path.extension() != ".jsonl") continue;
    auto name = path.stem().string();
    out.push_back({name, path, dir / (name + ".expect.json")});
  }
  std::sort(out.begin(), out.end(),
            [](const auto& a, const auto& b) { return a.name < b.name; });
  return out;
}

std::string kernel_scenario_mismatch(spec::Profile scenario, spec::Profile tree) {
  // An older design (docs/DESIGNS.md) is not the tree's code at all.
  const auto& s = spec::traits(scenario);
  const auto& t = spec::traits(tree);
  if (s.slab != t.slab || s.kmem_pages != t.kmem_pages || s.stock_refs != t.stock_refs ||
      s.obj_refill != t.obj_refill || s.charge_batch_pages != t.charge_batch_pages)
    return fmt::format("its profile {} is another design than the tree's (profile {})",
                       spec::profile_name(scenario), spec::profile_name(tree));
  const auto names = [](spec::Profile profile) {
    std::vector<std::string> ids;
    for (const auto* bug : spec::known_bugs(spec::traits(profile)))
      ids.push_back(fmt::format("{} (fixed by {})", bug->id, bug->fix));
    return ids;
  };
  const auto of_scenario = names(scenario), of_tree = names(tree);
  if (of_scenario == of_tree) return "";
  const auto list = [](const std::vector<std::string>& ids) {
    return ids.empty() ? std::string("none") : fmt::format("{}", fmt::join(ids, ", "));
  };
  return fmt::format("its profile {} has the known kernel bugs: {}; the tree's profile {}: {}",
                     spec::profile_name(scenario), list(of_scenario), spec::profile_name(tree),
                     list(of_tree));
}

ScenarioOutcome run_scenario(const ScenarioFiles& files, ModelChoice choice,
                             std::shared_ptr<const kernel::KernelSubject> kernel,
                             const ScenarioReplay& run, Isolation isolation) {
  ScenarioOutcome outcome;
  outcome.name = files.name;
  Expectation expect;
  try {
    expect = read_expectation_file(files.expect);
  } catch (const std::invalid_argument& e) {
    outcome.mismatches.push_back(e.what());
    return outcome;
  }
  outcome.expected_exit = expect.exit;
  outcome.nr_checks = expect.checks.size();
  auto trace = read_trace_file(files.trace.string());
  if (uses_kernel(choice) && trace.has_races()) {
    // The kernel's own code has no preemption points (docs/TRACE_FORMAT.md "Races").
    outcome.skipped = "not run on the kernel model: a race trace, and the kernel model cannot be preempted";
    return outcome;
  }
  if (uses_kernel(choice) && trace.has_config) {
    if (!kernel) kernel = kernel::KernelSubject::open({});
    outcome.skipped = kernel_scenario_mismatch(trace.config.profile, kernel->profile());
    if (!outcome.skipped.empty()) return outcome;
  }
  // A profile the impl does not model is replayed on the reference alone.
  if (trace.has_config) choice = lock_step_or_reference(trace.config.profile, choice);
  ScenarioReplay replay_it = run;
  if (!replay_it)
    replay_it = [&](const Trace& t, ReplayProgress* progress) {
      return replay(t, choice, spec::Mutant::none, kernel, progress);
    };
  auto isolated = replay_isolated(trace, replay_it, choice, isolation);
  outcome.exit = isolated.exit;
  outcome.verdict = isolated.verdict;
  outcome.mismatches = expectation_mismatches(expect, outcome.exit, isolated.report);
  return outcome;
}

}  // namespace mv::trace
