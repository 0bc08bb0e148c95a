/* Starting a worker: a re-executed copy of the agent serving the protocol on
 * one end of a socketpair (`--worker`), under the credentials, directory and
 * environment the request asks for. worker.c relays requests to it. */
#ifndef PROVIUM_WORKER_SPAWN_H
#define PROVIUM_WORKER_SPAWN_H

#include "proto.h"

#include <sys/types.h>

/* Starts the worker `id` of request `r` (keys uid, gid, groups, caps, unshare, cwd, env).
 * Returns its pid with the agent's end of the channel in *fd (non-blocking,
 * close-on-exec); on failure answers `r` itself and returns -1. */
pid_t worker_start(const req_t *r, int64_t id, int *fd);

#endif
