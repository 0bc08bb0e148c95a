/* File operations and open file handles. Errors name the path involved. */
#ifndef PROVIUM_FILES_H
#define PROVIUM_FILES_H

#include "proto.h"

void op_read_file(const req_t *r);
void op_write_file(const req_t *r);
void op_stat(const req_t *r);
void op_listdir(const req_t *r);
void op_mkdir(const req_t *r);
void op_unlink(const req_t *r);
void op_rename(const req_t *r);
void op_open(const req_t *r);
void op_read(const req_t *r);
void op_write(const req_t *r);
void op_seek(const req_t *r);
void op_tell(const req_t *r);
void op_close(const req_t *r);

/* The descriptor of open file handle `id`, or -1 when there is none. */
int files_fd(int64_t id);

/* The host went away: its handles are closed. */
void files_close_all(void);

#endif
