#include "sysmem.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/shm.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <unistd.h>

#define PAGE 4096u

static size_t round_up(size_t n) { return (n + PAGE - 1) / PAGE * PAGE; }

int sysbuf_alloc(sysbuf_t *b, size_t len, const uint8_t *init) {
    size_t body = round_up(len), total = body + PAGE;
    void *m = mmap(NULL, total, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (m == MAP_FAILED) return -1;
    if (mprotect((uint8_t *)m + body, PAGE, PROT_NONE) < 0) {
        int err = errno;
        munmap(m, total);
        errno = err;
        return -1;
    }
    *b = (sysbuf_t){(uint8_t *)m + body - len, len, m, total};
    if (init && len) memcpy(b->p, init, len);
    return 0;
}

void sysbuf_free(sysbuf_t *b) {
    if (b->map) munmap(b->map, b->maplen);
    *b = (sysbuf_t){0};
}

/* ---------------------------------------------------------------- regions */

/* [start, end) of each mapping a host syscall created and has not unmapped. */
static struct region {
    uint64_t start, end;
} regions[SC_MAX_REGIONS];
static int n_regions;
static pthread_mutex_t regions_mutex = PTHREAD_MUTEX_INITIALIZER;

void regions_lock(void) { pthread_mutex_lock(&regions_mutex); }
int regions_trylock(void) { return pthread_mutex_trylock(&regions_mutex) == 0; }
void regions_unlock(void) { pthread_mutex_unlock(&regions_mutex); }

int sysmem_is_memory_call(int64_t nr) {
    switch (nr) {
    case SYS_mmap: case SYS_munmap: case SYS_mprotect: case SYS_pkey_mprotect: case SYS_madvise:
    case SYS_mremap: case SYS_remap_file_pages: case SYS_brk: case SYS_shmat: case SYS_mlock: case SYS_mlock2:
#ifdef SYS_mseal
    case SYS_mseal:
#endif
        return 1;
    default:
        return 0;
    }
}

/* Whether [addr, addr+len) lies inside one tracked region. */
static int inside(uint64_t addr, uint64_t len) {
    uint64_t end = addr + round_up(len);
    if (end < addr) return 0;
    for (int i = 0; i < n_regions; i++)
        if (regions[i].start <= addr && end <= regions[i].end) return 1;
    return 0;
}

static uint64_t mapped_bytes(void) {
    uint64_t sum = 0;
    for (int i = 0; i < n_regions; i++) sum += regions[i].end - regions[i].start;
    return sum;
}

static const char *too_big(char *why, size_t n, const char *call, uint64_t len, uint64_t replaced) {
    if (len > SC_MAX_MAP_BYTES) {
        snprintf(why, n, "%s of %llu bytes is refused: a mapping made by vm:syscall is at most 64 MiB", call, (unsigned long long)len);
        return why;
    }
    if (mapped_bytes() - replaced + round_up(len) > SC_MAX_MAPPED_BYTES) {
        snprintf(why, n, "%s of %llu bytes is refused: the mappings made by vm:syscall would exceed 128 MiB together; munmap some first",
                 call, (unsigned long long)len);
        return why;
    }
    return NULL;
}

static void add_region(uint64_t start, uint64_t len) {
    if (n_regions < SC_MAX_REGIONS) regions[n_regions++] = (struct region){start, start + round_up(len)};
}

/* Takes [start, start+len) out of every region (a region may split in two). */
static void remove_range(uint64_t start, uint64_t len) {
    uint64_t end = start + round_up(len);
    for (int i = 0; i < n_regions; i++) {
        struct region r = regions[i];
        if (end <= r.start || start >= r.end) continue;
        regions[i] = regions[--n_regions]; /* the pieces outside are added back below */
        i--;
        if (r.start < start) add_region(r.start, start - r.start);
        if (end < r.end) add_region(end, r.end - end);
    }
}

static const char *outside(char *why, size_t n, const char *call, uint64_t addr, uint64_t len) {
    snprintf(why, n,
             "%s of [0x%llx, +%llu) is refused: the range is not inside a mapping that an earlier vm:syscall(mmap) "
             "made, and the agent's own memory must stay mapped",
             call, (unsigned long long)addr, (unsigned long long)len);
    return why;
}

const char *regions_refusal(int64_t nr, const int64_t a[6], char *why, size_t n) {
    uint64_t a0 = (uint64_t)a[0], a1 = (uint64_t)a[1];
    switch (nr) {
    case SYS_mmap:
        if (n_regions >= SC_MAX_REGIONS) {
            snprintf(why, n, "mmap is refused: %d mappings made by vm:syscall are still mapped (the most the agent tracks); munmap some first",
                     SC_MAX_REGIONS);
            return why;
        }
        if ((a[3] & MAP_FIXED) && !(a[3] & MAP_FIXED_NOREPLACE) && !inside(a0, a1)) return outside(why, n, "mmap(MAP_FIXED)", a0, a1);
        return too_big(why, n, "mmap", a1, 0);
    case SYS_munmap: return inside(a0, a1) ? NULL : outside(why, n, "munmap", a0, a1);
    case SYS_mprotect: return inside(a0, a1) ? NULL : outside(why, n, "mprotect", a0, a1);
    case SYS_pkey_mprotect: return inside(a0, a1) ? NULL : outside(why, n, "pkey_mprotect", a0, a1);
    case SYS_madvise: return inside(a0, a1) ? NULL : outside(why, n, "madvise", a0, a1);
    case SYS_mlock: return inside(a0, a1) ? NULL : outside(why, n, "mlock", a0, a1);
    case SYS_mlock2: return inside(a0, a1) ? NULL : outside(why, n, "mlock2", a0, a1);
    case SYS_remap_file_pages: return inside(a0, a1) ? NULL : outside(why, n, "remap_file_pages", a0, a1);
#ifdef SYS_mseal
    case SYS_mseal: return inside(a0, a1) ? NULL : outside(why, n, "mseal", a0, a1);
#endif
    case SYS_mremap:
        if (!inside(a0, a1)) return outside(why, n, "mremap", a0, a1);
        if ((a[3] & MREMAP_FIXED) && !inside((uint64_t)a[4], (uint64_t)a[2])) return outside(why, n, "mremap(MREMAP_FIXED) to", (uint64_t)a[4], (uint64_t)a[2]);
        return too_big(why, n, "mremap", (uint64_t)a[2], (a[3] & MREMAP_DONTUNMAP) ? 0 : round_up(a1));
    case SYS_brk:
        if (a0 == 0) return NULL;
        snprintf(why, n, "brk(0x%llx) is refused: moving the break would take memory from the agent's allocator; brk(0) reads it",
                 (unsigned long long)a0);
        return why;
    case SYS_shmat:
        if (!(a[2] & SHM_REMAP)) return NULL;
        snprintf(why, n, "shmat with SHM_REMAP is refused: it could replace the agent's own memory");
        return why;
    default:
        return NULL;
    }
}

void regions_note(int64_t nr, const int64_t a[6], int64_t ret) {
    switch (nr) {
    case SYS_mmap:
        if (ret == -1) return;
        remove_range((uint64_t)ret, (uint64_t)a[1]); /* MAP_FIXED over a tracked range */
        add_region((uint64_t)ret, (uint64_t)a[1]);
        return;
    case SYS_munmap:
        if (ret == 0) remove_range((uint64_t)a[0], (uint64_t)a[1]);
        return;
    case SYS_mremap:
        if (ret == -1) return;
        if (!(a[3] & MREMAP_DONTUNMAP)) remove_range((uint64_t)a[0], (uint64_t)a[1]);
        remove_range((uint64_t)ret, (uint64_t)a[2]);
        add_region((uint64_t)ret, (uint64_t)a[2]);
        return;
    default:
        return;
    }
}

/* ---------------------------------------------------------------- read_mem */

static int arg_u64(const req_t *r, const char *key, uint64_t *out) {
    const uint8_t *p;
    size_t n;
    if (arg_bytes(r, key, 1, &p, &n)) return -1;
    if (n != 8) {
        reply_error(r->id, "EINVAL", EINVAL, "%s: '%s' must be 8 bytes (a little-endian 64-bit integer), got %zu", r->op, key, n);
        return -1;
    }
    memcpy(out, p, 8); /* x86_64: little-endian */
    return 0;
}

/* Reads through process_vm_readv, so an unmapped address is an error (EFAULT), never a SIGSEGV. */
void op_read_mem(const req_t *r) {
    uint64_t addr;
    int64_t len;
    if (arg_u64(r, "addr", &addr) || arg_int(r, "len", 1, &len)) return;
    if (len < 0 || len > (int64_t)READ_MEM_MAX) {
        reply_error(r->id, "EINVAL", EINVAL, "read_mem: len must be 0..%u (64 MiB), got %lld", READ_MEM_MAX, (long long)len);
        return;
    }
    uint8_t *data = len ? malloc((size_t)len) : NULL;
    if (len && !data) {
        reply_errno(r, ENOMEM, NULL, NULL);
        return;
    }
    if (len) {
        struct iovec local = {data, (size_t)len}, remote = {(void *)(uintptr_t)addr, (size_t)len};
        ssize_t got = process_vm_readv(getpid(), &local, 1, &remote, 1, 0);
        if (got != len) {
            reply_errno(r, got < 0 ? errno : EFAULT, NULL, NULL); /* a partial read: the range ends unmapped */
            free(data);
            return;
        }
    }
    coll_t m = resp_ok(r->id);
    enc_key(&m, "data");
    enc_bytes(m.b, data, (size_t)len);
    proto_send(&m);
    free(data);
}
