/* Private header of the core module: the I/O fault injection hook the file functions call. */
#ifndef ARD_CORE_INT_H
#define ARD_CORE_INT_H

#include "ard/core.h"

/* Before a system call of kind `op` (enum ard_io_op): 0 to go ahead, else the errno to fail with
 * (io_fault.c). *short_write becomes 1 when a write should put half its bytes first. */
int ard__io_fault(int32_t op, int *short_write);

/* This process's part of a temporary file name, "<boot>.<pid>.<start>" (file_temp.c); -1 (and a
 * name no sweep removes) when /proc cannot tell. */
int ard__temp_tag(char *out, size_t cap);

#endif
