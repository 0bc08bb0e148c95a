/* The poll() set of one event-loop iteration; each fd remembers who owns it. */
#ifndef PROVIUM_POLLSET_H
#define PROVIUM_POLLSET_H

#include <poll.h>
#include <stddef.h>
#include <stdint.h>

enum slot_kind { SLOT_CONN, SLOT_SIGNAL, SLOT_PROC_IN, SLOT_PROC_OUT, SLOT_PROC_ERR, SLOT_TAIL, SLOT_WORKER, SLOT_SYSCALL };

typedef struct {
    struct pollfd *fds;
    struct slot {
        enum slot_kind kind;
        int64_t id; /* process id for SLOT_PROC_*, tail id for SLOT_TAIL, worker id for SLOT_WORKER */
    } *slots;
    size_t n, cap;
    int timeout_ms; /* -1: none */
} pollset_t;

void pollset_reset(pollset_t *ps);
void pollset_add(pollset_t *ps, int fd, short events, enum slot_kind kind, int64_t id);
/* Lowers the poll timeout so the loop wakes up by `due_ms` (monotonic). */
void pollset_wake_at(pollset_t *ps, int64_t due_ms, int64_t now_ms);

int64_t now_ms(void);
int64_t now_ns(void);

#endif
