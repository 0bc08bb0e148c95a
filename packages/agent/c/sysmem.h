/* Memory of the `syscall`, `ioctl` and `read_mem` ops: guarded buffers, the
 * regions the host's own mmap calls created, and reading the agent's memory. */
#ifndef PROVIUM_SYSMEM_H
#define PROVIUM_SYSMEM_H

#include "proto.h"

#include <stddef.h>
#include <stdint.h>

/* Largest single buffer, and all buffers of one call together (docs/limits.md). */
#define SC_MAX_BUF_BYTES (16u * 1024 * 1024)
#define SC_MAX_TOTAL_BYTES (64u * 1024 * 1024)
/* Largest read_mem (the original's bound). */
#define READ_MEM_MAX (64u * 1024 * 1024)
/* How many host-made mappings the agent keeps track of, the largest one, and
 * all of them together (the guest's memory is small; MAP_POPULATE fills it). */
#define SC_MAX_REGIONS 256
#define SC_MAX_MAP_BYTES (64ull * 1024 * 1024)
#define SC_MAX_MAPPED_BYTES (128ull * 1024 * 1024)

/* A buffer that ends right before a PROT_NONE page: a kernel that writes past
 * its end fails with EFAULT instead of overwriting the agent's heap. */
typedef struct {
    uint8_t *p;
    size_t len;
    void *map;
    size_t maplen;
} sysbuf_t;

/* `init` NULL: zero-filled. 0, or -1 with errno set. */
int sysbuf_alloc(sysbuf_t *b, size_t len, const uint8_t *init);
void sysbuf_free(sysbuf_t *b);

/* Whether `nr` maps, unmaps or changes memory (needs regions_lock around check, call and note). */
int sysmem_is_memory_call(int64_t nr);
void regions_lock(void);
/* 1 when the lock was free and is now held. */
int regions_trylock(void);
void regions_unlock(void);
/* NULL when the call may touch the ranges it names, else why not (written to `why`). */
const char *regions_refusal(int64_t nr, const int64_t a[6], char *why, size_t n);
/* Records what a successful memory call mapped or unmapped. */
void regions_note(int64_t nr, const int64_t a[6], int64_t ret);

void op_read_mem(const req_t *r);

#endif
