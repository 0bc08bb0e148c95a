/* `batch`: many ops in one request, run in order, answered together. */
#ifndef PROVIUM_BATCH_H
#define PROVIUM_BATCH_H

#include "proto.h"

void op_batch(const req_t *r);
/* Carries on with batches whose exec has answered (main loop, after procs_reap). */
void batches_resume(void);
/* The host went away: its batches are dropped unanswered. */
void batches_drop_all(void);

#endif
