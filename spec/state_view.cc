#include "spec/state_view.h"

namespace mv::spec {

std::vector<const StockSnap*> StateView::obj_stocks_caching(ObjcgId id) const {
  std::vector<const StockSnap*> out;
  each_obj_stock_caching(id, [&](const StockSnap& stock) { out.push_back(&stock); });
  return out;
}

std::vector<StateView::StockSlot> StateView::page_stock_slots(MemcgId id) const {
  std::vector<StockSlot> out;
  each_page_stock_slot(id, [&](Cpu cpu, std::uint32_t nr_pages) { out.push_back({cpu, nr_pages}); });
  return out;
}

std::vector<MemcgId> StateView::ancestors_or_self(MemcgId id) const {
  return spec::ancestors_or_self(id, [this](MemcgId m) { return memcg(m); });
}

}  // namespace mv::spec
