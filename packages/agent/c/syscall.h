/* The ops that call into the guest kernel for the host: `syscall` (also run
 * on a thread with `async`), `syscall_cancel`, `ioctl` on an open file handle,
 * and `read_mem` (sysmem.c). What is refused: syspolicy.c. */
#ifndef PROVIUM_SYSCALL_H
#define PROVIUM_SYSCALL_H

#include "proto.h"
#include "sysmem.h" /* op_read_mem */

void op_syscall(const req_t *r);
void op_syscall_cancel(const req_t *r);
void op_ioctl(const req_t *r);

#endif
