// The overload-set helper for std::visit over spec::Op, shared by every layer.
#pragma once

namespace mv::spec {

template <class... Ts>
struct Overloaded : Ts... {
  using Ts::operator()...;
};
template <class... Ts>
Overloaded(Ts...) -> Overloaded<Ts...>;

}  // namespace mv::spec
