/* File operations on paths, and the read/write helpers open handles share. Errors name the path involved. */
#ifndef PROVIUM_FILES_H
#define PROVIUM_FILES_H

#include "buf.h"
#include "proto.h"

#include <stddef.h>
#include <stdint.h>

void op_read_file(const req_t *r);
void op_write_file(const req_t *r);
void op_stat(const req_t *r);
void op_listdir(const req_t *r);
void op_mkdir(const req_t *r);
void op_unlink(const req_t *r);
void op_rename(const req_t *r);

/* Reads from `fd` until EOF or `max` bytes; -1 with errno on failure. */
int fd_read_all(int fd, buf_t *out, size_t max);
/* Writes all `n` bytes; -1 with errno on failure. */
int fd_write_all(int fd, const uint8_t *p, size_t n);
/* Answers `r` with `{data = <bytes>}`. */
void reply_data(const req_t *r, const buf_t *data);

#endif
