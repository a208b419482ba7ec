// The compiler's prefetch hint, which Swift does not expose. A prefetch never faults, whatever
// the address: a stale or wrong one costs a wasted memory read, nothing more.
#include <malloc.h>
#include <stdint.h>

/// Every cache line of the `bytes` bytes at `address`.
static inline __attribute__((always_inline)) void strata_prefetch_bytes(uintptr_t address, uintptr_t bytes) {
    for (uintptr_t line = address & ~(uintptr_t)63; line < address + bytes; line += 64) {
        __builtin_prefetch((const void *)line, 1, 3);
    }
}

/// The cache line at `address`.
static inline __attribute__((always_inline)) void strata_prefetch(uintptr_t address) {
    __builtin_prefetch((const void *)address, 1, 3);
}

/// The usable size of the heap block at `address` (a Swift object's allocation: at least its
/// instance size), so that reading an object's words stays within its block.
static inline uintptr_t strata_allocation_size(const void *address) {
    return (uintptr_t)malloc_usable_size((void *)address);
}
