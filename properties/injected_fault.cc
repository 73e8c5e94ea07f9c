#include "properties/injected_fault.h"

#include <chrono>
#include <csignal>
#include <cstdlib>
#include <stdexcept>
#include <thread>
#include <variant>

namespace mv::properties {

namespace {

constexpr std::pair<InjectedFault, std::string_view> kNames[] = {
    {InjectedFault::segfault, "segfault"},
    {InjectedFault::abort, "abort"},
    {InjectedFault::throws, "throw"},
    {InjectedFault::loop, "loop"},
};

class FaultyModel final : public spec::Model {
 public:
  enum class Trigger { first_stack, next_op };
  FaultyModel(std::unique_ptr<spec::Model> inner, InjectedFault fault, Trigger trigger)
      : inner_(std::move(inner)), fault_(fault), trigger_(trigger) {}

  spec::Errno apply(const spec::Op& op) override {
    if (trigger_ == Trigger::next_op) misbehave();
    if (const auto* alloc = std::get_if<spec::Alloc>(&op); alloc && alloc->kind == spec::AllocKind::stack)
      misbehave();
    return inner_->apply(op);
  }
  spec::Snapshot snapshot() const override { return inner_->snapshot(); }
  std::string_view name() const override { return inner_->name(); }
  spec::Snapshot snapshot_without_objects() const override { return inner_->snapshot_without_objects(); }
  std::optional<spec::ObjectSnap> live_object(spec::ObjKey key) const override {
    return inner_->live_object(key);
  }
  std::optional<spec::SnapshotDelta> take_changes() override { return inner_->take_changes(); }
  bool set_scheduler(spec::Scheduler* scheduler) override { return inner_->set_scheduler(scheduler); }

 private:
  void misbehave() const {
    switch (fault_) {
      case InjectedFault::none:
        return;
      case InjectedFault::segfault:
        std::raise(SIGSEGV);
        return;
      case InjectedFault::abort:
        std::abort();
      case InjectedFault::throws:
        throw std::out_of_range("injected fault: a stack page index out of range");
      case InjectedFault::loop:
        for (;;) std::this_thread::sleep_for(std::chrono::seconds(1));
    }
  }

  std::unique_ptr<spec::Model> inner_;
  InjectedFault fault_;
  Trigger trigger_;
};

}  // namespace

std::optional<InjectedFault> parse_injected_fault(std::string_view name) {
  for (const auto& [fault, text] : kNames)
    if (text == name) return fault;
  return std::nullopt;
}

std::string_view injected_fault_name(InjectedFault fault) {
  for (const auto& [f, text] : kNames)
    if (f == fault) return text;
  return "none";
}

ModelFactory with_injected_fault(ModelFactory subject, InjectedFault fault) {
  if (fault == InjectedFault::none) return subject;
  return [subject = std::move(subject), fault](const spec::Config& config, const spec::PathTable& paths)
             -> std::unique_ptr<spec::Model> {
    return std::make_unique<FaultyModel>(subject(config, paths), fault, FaultyModel::Trigger::first_stack);
  };
}

std::unique_ptr<spec::Model> with_injected_fault_on_next_op(std::unique_ptr<spec::Model> model,
                                                            InjectedFault fault) {
  if (fault == InjectedFault::none) return model;
  return std::make_unique<FaultyModel>(std::move(model), fault, FaultyModel::Trigger::next_op);
}

}  // namespace mv::properties
