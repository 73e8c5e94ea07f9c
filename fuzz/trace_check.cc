#include "fuzz/trace_check.h"

#include <sstream>
#include <string_view>

#include <fmt/format.h>

#include "trace/replay.h"
#include "trace/report.h"
#include "trace/trace_reader.h"

namespace mv::fuzz {

namespace {

constexpr std::string_view kFile = kFuzzTraceFile;

std::string check_error(const trace::TraceError& error) {
  const std::string what = error.what();
  // A stream always has a line 1: line 0 (unreadable file) cannot happen here.
  if (error.line == 0) return fmt::format("trace error without a line: {}", what);
  if (what.rfind(fmt::format("{}:{}: ", kFile, error.line), 0) != 0)
    return fmt::format("trace error not as FILE:LINE: reason: {}", what);
  if (error.reason.empty()) return fmt::format("trace error without a reason: {}", what);
  return {};
}

}  // namespace

std::string check_outcome(const trace::Trace& trace, const trace::ReplayResult& result) {
  try {
    if (result.disagreement)
      return fmt::format("reference and impl disagree at line {}: {}", result.disagreement->line,
                         result.disagreement->message);
    if (result.model_failure)
      return fmt::format("the {} model failed at line {}: {}", result.model_failure->model,
                         result.model_failure->line, result.model_failure->message);
    if (result.error) {
      if (auto problem = check_error(*result.error); !problem.empty()) return problem;
      if (result.exit_code() != 2) return fmt::format("trace error with exit {}", result.exit_code());
    }
    const auto json_text = trace::report_json(trace, result).dump();
    const auto parsed = trace::Json::parse(json_text);
    if (parsed.at("exit") != result.exit_code())
      return fmt::format("JSON report exit {} but the replay's is {}", parsed.at("exit").dump(),
                         result.exit_code());
    (void)trace::report_text(trace, result);
  } catch (const std::exception& e) {
    return fmt::format("an exception escaped the report: {}", e.what());
  }
  return {};
}

std::string check_trace_input(const std::uint8_t* data, std::size_t size) {
  std::istringstream in(std::string(reinterpret_cast<const char*>(data), size));
  try {
    const auto trace = trace::read_trace(in, std::string(kFile));
    const auto choice = trace.has_config
                            ? trace::lock_step_or_reference(trace.config.profile, trace::ModelChoice::both)
                            : trace::ModelChoice::both;
    return check_outcome(trace, trace::replay(trace, choice));
  } catch (const std::exception& e) {
    return fmt::format("an exception escaped the reader or the replay: {}", e.what());
  }
}

}  // namespace mv::fuzz
