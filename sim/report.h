// A simulation's results as a table, JSON (docs/DESIGN.md "simulate --json"),
// CSV, and the gnuplot script that draws them as an SVG (one line per profile,
// day or iteration on x). Several runs are the same workload on several
// profiles; the first of them that a baseline names gives the memory
// difference column (seed 000's "mem diff").
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "sim/claims.h"
#include "sim/workload.h"

namespace mv::sim {

struct RunReport {
  SimResult result;
  Claim claim;
};

// The contract object of one run: {"profile","workload","samples":[{"day",
// "dying","held_bytes",...}],"final":{"dying",...},...}. With a baseline run,
// every sample also has "mem_diff_bytes" (kernel memory in use minus the
// baseline's at the same sample).
nlohmann::json run_json(const RunReport& run, const RunReport* baseline = nullptr);
// One run: run_json. Several: {"workload","baseline","runs":[run_json...]}.
nlohmann::json runs_json(const std::vector<RunReport>& runs, std::size_t baseline);

std::string runs_table(const std::vector<RunReport>& runs, std::size_t baseline);
// Each run's claim and its outcome (the end of runs_table; all --quiet prints).
std::string claims_text(const std::vector<RunReport>& runs);
// One row per run and sample; the same runs give the same bytes.
std::string runs_csv(const std::vector<RunReport>& runs, std::size_t baseline);

// FNV-1a, 64 bits, as 16 hex digits: names the data a plot was drawn from.
std::string data_digest(const std::string& text);

// The gnuplot program that writes `svg_path`: dying cgroups and the memory they
// hold, one line per run. `command` is printed under the plot with the digest
// of `csv` (runs_csv of the same runs), so a stale picture can be told apart.
std::string gnuplot_script(const std::vector<RunReport>& runs, const std::string& csv,
                           const std::string& svg_path, const std::string& command);

}  // namespace mv::sim
