/* Which host syscalls the agent refuses, and whose file descriptors are whose.
 * A refused call is not made: the host gets an error that says why. The rules
 * are listed in docs/syscalls.md. */
#ifndef PROVIUM_SYSPOLICY_H
#define PROVIUM_SYSPOLICY_H

#include <stddef.h>
#include <stdint.h>

/* Descriptors below this are tracked as made by host syscalls; higher ones never are. */
#define SC_MAX_TRACKED_FD 4096

/* NULL when the agent may make the call, else why not (written to `why`).
 * `memory`: check the memory rules too (the caller holds regions_lock). */
const char *sc_refusal(int64_t nr, const int64_t a[6], char *why, size_t n, int memory);

/* The descriptors open in the agent, as a bitmap of SC_MAX_TRACKED_FD bits. */
typedef struct {
    uint64_t bits[SC_MAX_TRACKED_FD / 64];
} fdset_t;

/* Descriptors that appear while a host syscall runs are the host's: the agent
 * lets later calls use them. Call fds_before() right before and fds_after()
 * right after the call. */
void fds_before(fdset_t *s);
void fds_after(const fdset_t *before);

#endif
