#include "spec/operation.h"

#include <array>

#include "spec/overloaded.h"

namespace mv::spec {

std::string_view op_name(const Op& op) {
  return std::visit(Overloaded{
                        [](const Mkdir&) { return std::string_view("mkdir"); },
                        [](const Rmdir&) { return std::string_view("rmdir"); },
                        [](const Spawn&) { return std::string_view("spawn"); },
                        [](const Exit&) { return std::string_view("exit"); },
                        [](const Migrate&) { return std::string_view("migrate"); },
                        [](const RunOn&) { return std::string_view("run_on"); },
                        [](const Alloc&) { return std::string_view("alloc"); },
                        [](const Free&) { return std::string_view("free"); },
                        [](const Drain&) { return std::string_view("drain"); },
                        [](const DrainAll&) { return std::string_view("drain_all"); },
                        [](const SetMax&) { return std::string_view("set_max"); },
                        [](const CpuOffline&) { return std::string_view("cpu_offline"); },
                        [](const Quiesce&) { return std::string_view("quiesce"); },
                    },
                    op);
}

static constexpr std::array<std::string_view, 4> kKindNames = {"slab", "percpu", "page", "stack"};

std::string_view alloc_kind_name(AllocKind kind) { return kKindNames[static_cast<int>(kind)]; }

std::optional<AllocKind> parse_alloc_kind(std::string_view name) {
  for (std::size_t i = 0; i < kKindNames.size(); ++i)
    if (kKindNames[i] == name) return static_cast<AllocKind>(i);
  return std::nullopt;
}

std::string_view errno_name(Errno err) {
  static constexpr std::array<std::string_view, 6> names = {"ok",     "EBUSY",  "ENOENT",
                                                            "ENOMEM", "EEXIST", "EINVAL"};
  return names[static_cast<int>(err)];
}

}  // namespace mv::spec
