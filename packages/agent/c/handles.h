/* Open file handles (vm:open_file). Errors name the path involved. */
#ifndef PROVIUM_HANDLES_H
#define PROVIUM_HANDLES_H

#include "proto.h"

void op_open(const req_t *r);
void op_read(const req_t *r);
void op_write(const req_t *r);
void op_seek(const req_t *r);
void op_tell(const req_t *r);
void op_close(const req_t *r);

/* The descriptor of open handle `id` (its path in *path), or -1 when none is open. */
int files_fd(int64_t id, const char **path);

/* The host went away: its handles are closed. */
void files_close_all(void);

#endif
