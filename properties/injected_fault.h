// A subject that breaks on purpose, to test the checker's own robustness
// (issue 12 item 7; `check --inject-fault KIND`, `mutants --inject-fault`):
// the subject's model, except that its first kernel-stack allocation
// (alloc kind "stack", the allocation a slipped THREAD_SIZE / PAGE_SIZE at
// 64K pages made the impl overrun) does what a broken model does instead of
// answering: segfaults (SIGSEGV), aborts (an assertion: SIGABRT), throws
// (std::out_of_range, as a checked index), or never returns (a loop; it
// sleeps, so as not to take a shared core). A wrapper around any factory, so
// that neither reference/ nor impl/ carries a test hook.
#pragma once

#include <optional>
#include <string_view>

#include "properties/conformance.h"

namespace mv::properties {

enum class InjectedFault { none, segfault, abort, throws, loop };

// "segfault", "abort", "throw", "loop"; nullopt for anything else.
std::optional<InjectedFault> parse_injected_fault(std::string_view name);
std::string_view injected_fault_name(InjectedFault fault);
inline constexpr std::string_view kInjectedFaultNames = "segfault, abort, throw, loop";

// `subject` with `fault` (none: `subject` itself).
ModelFactory with_injected_fault(ModelFactory subject, InjectedFault fault);

// `model` with `fault` on the next operation it is given, whatever its kind
// (explore --inject-fault: a harness's set-up has run, and its harnesses
// allocate no stacks); a scheduler given to it reaches `model`.
std::unique_ptr<spec::Model> with_injected_fault_on_next_op(std::unique_ptr<spec::Model> model,
                                                            InjectedFault fault);

}  // namespace mv::properties
