/*
 * The kernel model of one tree, as one translation unit (the way the kernel's
 * tools/testing harnesses include the real .c files): our shims, the tree's
 * extracted definitions (generated into the build tree by the extractor:
 * kernel_*.h, kernel_code.c), then our glue, which drives them as the
 * kernel's callers would and exports the C interface of kernel/c/mvk_api.h.
 * Static kernel functions stay static: the glue lives in the same unit.
 */
#include <stdio.h>
#include <stdlib.h>

#include "kernel/shim/dup.h"
#include "kernel/shim/stubs.h"
#include "kernel_tree.h"
#include "kernel_types.h"
#include "kernel/shim/custom.h"
#include "kernel_objects.h"
#include "kernel_protos.h"
#include "kernel/c/mvk_api.h"
#include "kernel/c/state.h"
#include "kernel/c/observe.h"

#include "kernel_code.c"

#include "kernel/c/machine.c"
#include "kernel/c/misuse.c"
#include "kernel/c/deferred.c"
#include "kernel/c/cgroup.c"
#include "kernel/c/allocators.c"
#include "kernel/c/api.c"
