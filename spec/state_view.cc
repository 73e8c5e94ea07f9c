#include "spec/state_view.h"

namespace mv::spec {

std::vector<const StockSnap*> StateView::obj_stocks_caching(ObjcgId id) const {
  std::vector<const StockSnap*> out;
  for (const auto& stock : stocks())
    if (stock.cached_objcg == id) out.push_back(&stock);
  return out;
}

std::vector<StateView::StockSlot> StateView::page_stock_slots(MemcgId id) const {
  std::vector<StockSlot> out;
  for (const auto& stock : stocks())
    for (const auto& slot : stock.page_stock)
      if (slot.memcg == id) out.push_back({stock.cpu, slot.nr_pages});
  return out;
}

std::vector<MemcgId> StateView::ancestors_or_self(MemcgId id) const {
  return spec::ancestors_or_self(id, [this](MemcgId m) { return memcg(m); });
}

}  // namespace mv::spec
