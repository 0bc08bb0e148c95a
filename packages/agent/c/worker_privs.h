/* A worker's capabilities and namespaces: the request's `caps` and `unshare`
 * lists, applied in the forked child around its setuid (worker_spawn.c). */
#ifndef PROVIUM_WORKER_PRIVS_H
#define PROVIUM_WORKER_PRIVS_H

#include "proto.h"

#include <stdint.h>

typedef struct {
    int has_caps;   /* `caps` was given: exactly these are kept */
    uint64_t caps;  /* bit n: capability n */
    int ns_flags;   /* CLONE_NEW* of `unshare` */
} privs_t;

/* Reads `caps` and `unshare`; on a bad value answers `r` and returns -1. */
int privs_from(const req_t *r, privs_t *p);

/* In the child, while still root. Each returns 0, or -1 with errno set and
 * `step` naming what failed. */
int privs_before_setuid(const privs_t *p, char *step, size_t n);
int privs_after_setuid(const privs_t *p, char *step, size_t n);

#endif
