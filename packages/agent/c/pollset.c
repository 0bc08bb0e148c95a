#include "pollset.h"

#include "buf.h"

#include <time.h>

void pollset_reset(pollset_t *ps) {
    ps->n = 0;
    ps->timeout_ms = -1;
}

void pollset_add(pollset_t *ps, int fd, short events, enum slot_kind kind, int64_t id) {
    if (ps->n == ps->cap) {
        ps->cap = ps->cap ? ps->cap * 2 : 16;
        ps->fds = xrealloc(ps->fds, ps->cap * sizeof *ps->fds);
        ps->slots = xrealloc(ps->slots, ps->cap * sizeof *ps->slots);
    }
    ps->fds[ps->n] = (struct pollfd){.fd = fd, .events = events};
    ps->slots[ps->n] = (struct slot){.kind = kind, .id = id};
    ps->n++;
}

void pollset_wake_at(pollset_t *ps, int64_t due_ms, int64_t now) {
    int64_t wait = due_ms - now;
    if (wait < 0) wait = 0;
    if (wait > 60000) wait = 60000;
    if (ps->timeout_ms < 0 || wait < ps->timeout_ms) ps->timeout_ms = (int)wait;
}

int64_t now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

int64_t now_ms(void) { return now_ns() / 1000000; }
