/* Tail streams: a guest file followed as it grows (tail_open, by path, across
 * truncation and rotation) or an open handle read on (tail_fd). Each sends
 * tail_data events until the host closes it (tail_close); a pipe or device
 * that reaches its end sends tail_end. */
#ifndef PROVIUM_TAIL_H
#define PROVIUM_TAIL_H

#include "pollset.h"
#include "proto.h"

void op_tail_open(const req_t *r);
void op_tail_fd(const req_t *r);
void op_tail_close(const req_t *r);

/* `paused`: the host is not reading; read nothing more for now. */
void tails_prepare(pollset_t *ps, int64_t now, int paused);
void tails_handle(int64_t id, short revents);
/* Looks at the regular files whose period is due. */
void tails_tick(int64_t now, int paused);
/* The host went away: every tail is closed. */
void tails_close_all(void);

#endif
