#include "properties/failure_trace.h"

#include <algorithm>
#include <cctype>
#include <fstream>
#include <sstream>
#include <stdexcept>

#include <fmt/format.h>

#include "trace/report.h"
#include "trace/trace_writer.h"

namespace mv::properties {

std::string trace_jsonl(const spec::Config& config, const trace::TraceNames& names,
                        const std::vector<AppliedStep>& steps, const std::string& note) {
  std::string out = trace::trace_header_json(config, note).dump() + "\n";
  for (const auto& step : steps) out += trace::trace_line_json(step.line, names).dump() + "\n";
  return out;
}

void write_trace_file(const std::string& path, const spec::Config& config,
                      const trace::TraceNames& names, const std::vector<AppliedStep>& steps,
                      const std::string& note) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  if (!out) throw std::runtime_error(fmt::format("cannot write {}", path));
  out << trace_jsonl(config, names, steps, note);
  out.flush();
  if (!out) throw std::runtime_error(fmt::format("cannot write {}", path));
}

namespace {
constexpr std::string_view kReplayPrefix = "replay: memcg-verify replay FILE";

// The word after `flag ` in `text` (letters, digits, '_', '.'), or "".
std::string word_after(std::string_view text, std::string_view flag) {
  const auto at = text.find(flag);
  if (at == std::string_view::npos) return {};
  std::string word;
  for (auto i = at + flag.size(); i < text.size(); ++i) {
    const char c = text[i];
    // ',': the lock-step model "reference,kernel" is one word.
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '.' || c == ',')) break;
    word += c;
  }
  return word;
}
}  // namespace

std::string replay_note(const std::string& found_by, std::string_view model, spec::Mutant mutant) {
  std::string note = fmt::format("{}; {} --model {}", found_by, kReplayPrefix, model);
  if (mutant != spec::Mutant::none) note += fmt::format(" --mutant {}", spec::mutant_name(mutant));
  return note;
}

std::string with_header_note(const std::string& trace_jsonl, const std::string& note) {
  const auto end = trace_jsonl.find('\n');
  auto header = trace::Json::parse(trace_jsonl.substr(0, end));
  header["note"] = note;
  return header.dump() + (end == std::string::npos ? std::string("\n") : trace_jsonl.substr(end));
}

ReplayHint replay_hint(std::string_view note) {
  const auto at = note.find(kReplayPrefix);
  if (at == std::string_view::npos) return {};
  const auto command = note.substr(at + kReplayPrefix.size());
  return ReplayHint{word_after(command, "--model "), word_after(command, "--mutant ")};
}

std::string steps_table(const Conformance& run) {
  struct Row {
    std::string line, op, cpu, what, reference, subject;
  };
  std::vector<Row> rows;
  rows.push_back({"line", "op", "cpu", "what", "reference", run.subject_name()});
  for (const auto& step : run.steps())
    rows.push_back({std::to_string(step.line.line), std::string(spec::op_name(step.op)),
                    step.cpu ? std::to_string(*step.cpu) : std::string("-"),
                    trace::describe_op(step.op, run.names()),
                    std::string(spec::errno_name(step.reference_result)),
                    std::string(spec::errno_name(step.subject_result))});
  std::array<std::size_t, 6> width{};
  for (const auto& r : rows) {
    width[0] = std::max(width[0], r.line.size());
    width[1] = std::max(width[1], r.op.size());
    width[2] = std::max(width[2], r.cpu.size());
    width[3] = std::max(width[3], r.what.size());
    width[4] = std::max(width[4], r.reference.size());
    width[5] = std::max(width[5], r.subject.size());
  }
  std::string out;
  for (const auto& r : rows)
    out += fmt::format("  {:>{}}  {:<{}}  {:>{}}  {:<{}}  {:<{}}  {}\n", r.line, width[0], r.op,
                       width[1], r.cpu, width[2], r.what, width[3], r.reference, width[4],
                       r.subject);
  if (const auto& f = run.failure())
    out += fmt::format("  line {}: {}: {}\n", f->line, f->kind, f->message);
  return out;
}

}  // namespace mv::properties
