#include "kernel/extract/manifest.h"

namespace mv::kernel::extract {

const std::vector<FileSelection>& manifest() {
  // Headers first: their types and inline helpers are used by the .c files.
  static const std::vector<FileSelection> files = {
      {"include/linux/page_counter.h", false,
       {"struct page_counter", "PAGE_COUNTER_MAX", "page_counter_init", "page_counter_read",
        "page_counter_set_high"},
       "the hierarchical counter's type and its inline helpers"},
      {"include/linux/memcontrol.h", false,
       {"struct obj_cgroup", "MEMCG_CHARGE_BATCH", "enum page_memcg_data_flags",
        "MEMCG_DATA_FLAGS_MASK", "obj_cgroup_memcg", "__folio_objcg", "get_mem_cgroup_from_objcg",
        "folio_memcg_kmem", "mem_cgroup_is_root", "mem_cgroup_from_css", "obj_cgroup_tryget",
        "obj_cgroup_get", "obj_cgroup_put", "mem_cgroup_from_counter", "parent_mem_cgroup",
        "mem_cgroup_is_descendant", "memcg_kmem_enabled|memcg_kmem_online", "memcg_kmem_charge_page",
        "memcg_kmem_uncharge_page"},
       "the objcg type, the kmem-page charge entry points, the memcg hierarchy helpers"},
      {"mm/internal.h", false, {"MAX_RECLAIM_RETRIES"}, "try_charge_memcg's retry budget"},
      {"mm/page_counter.c", true, {}, "page_counter: charge, try_charge, cancel, uncharge, set_max"},
      {"mm/memcontrol.c", false,
       {// globals
        "root_mem_cgroup", "int_active_memcg", "cgroup_memory_nosocket", "cgroup_memory_nokmem",
        "cgroup_memory_nobpf?",
        "objcg_lock", "mem_cgroup_idr", "memcg_idr_lock",
        "memcg_kmem_enabled_key|memcg_kmem_online_key", "struct memcg_stock_pcp", "memcg_stock", "percpu_charge_mutex",
        "memcg_max_mutex", "OBJCGS_CLEAR_MASK",
        // helpers of the charge path
        "do_memsw_account", "task_is_dying", "mem_cgroup_kmem_disabled", "mem_cgroup_from_task",
        "active_memcg", "memcg_kmem_bypass", "mem_cgroup_margin",
        // the page stock
        "consume_stock", "drain_stock", "drain_local_stock", "__refill_stock", "refill_stock",
        "drain_all_stock", "memcg_hotplug_cpu_dead",
        // try-charge and the limit
        "try_charge_memcg", "mem_cgroup_resize_max",
        // objcg charge, uncharge, byte stock, release, reparenting
        "obj_cgroup_release", "obj_cgroup_alloc", "memcg_reparent_objcgs",
        "__get_obj_cgroup_from_memcg", "get_obj_cgroup_from_current", "memcg_account_kmem",
        "obj_cgroup_uncharge_pages", "obj_cgroup_charge_pages", "__memcg_kmem_charge_page",
        "__memcg_kmem_uncharge_page", "mod_objcg_mlstate", "mod_objcg_state",
        "memcg_alloc_slab_cgroups", "consume_obj_stock", "drain_obj_stock",
        "obj_stock_flush_required", "refill_obj_stock", "obj_cgroup_charge", "obj_cgroup_uncharge",
        // memcg life cycle
        "memcg_online_kmem", "memcg_offline_kmem", "mem_cgroup_id_remove",
        "mem_cgroup_id_put_many", "mem_cgroup_id_put", "mem_cgroup_css_alloc",
        "mem_cgroup_css_online", "mem_cgroup_css_offline"},
       "stocks, try_charge_memcg, objcg charge/uncharge/release, reparenting, css online/offline, "
       "hotplug"},
      {"include/linux/percpu.h", false,
       {"PCPU_MIN_UNIT_SIZE", "PCPU_MIN_ALLOC_SHIFT", "PCPU_MIN_ALLOC_SIZE"},
       "the percpu allocator's size limits"},
      {"mm/percpu-internal.h", false, {"pcpu_obj_full_size"}, "what a percpu object charges"},
      {"mm/percpu.c", false,
       {"pcpu_memcg_pre_alloc_hook", "pcpu_memcg_post_alloc_hook", "pcpu_memcg_free_hook"},
       "the percpu allocator's memcg hooks"},
      {"mm/slab.h", false,
       {"slab_objcgs", "memcg_free_slab_cgroups", "obj_full_size", "memcg_slab_pre_alloc_hook",
        "memcg_slab_post_alloc_hook", "memcg_slab_free_hook"},
       "the slab allocator's memcg hooks and what a slab object charges"},
      {"kernel/fork.c", false,
       {"memcg_charge_kernel_stack", "account_kernel_stack", "exit_task_stack_account"},
       "kernel stacks: charged page by page, uncharged at exit"},
  };
  return files;
}

std::vector<std::string> tree_files() {
  std::vector<std::string> out{"Makefile"};
  for (const auto& f : manifest()) out.push_back(f.path);
  return out;
}

const std::vector<std::string>& wrapped_functions() {
  static const std::vector<std::string> names = {
      "memcg_online_kmem",          // after: the new objcg is registered with its memcg
      "obj_cgroup_charge_pages",    // after: +nr_pages on the objcg's ghost when it returns 0
      "obj_cgroup_uncharge_pages",  // after: -nr_pages on the objcg's ghost
      "drain_obj_stock",            // around: the objcg whose bytes go to the page stock
      "__refill_stock",             // before: inside drain_obj_stock, -nr_pages on that objcg
      "obj_cgroup_release",         // around: nr_charged_bytes as release saw it; released
  };
  return names;
}

}  // namespace mv::kernel::extract
