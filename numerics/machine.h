/* machine.h - what the machine gives this process: wall-clock time and available memory. */
#ifndef SMX_MACHINE_H
#define SMX_MACHINE_H

/* Monotonic wall-clock seconds (CLOCK_MONOTONIC). */
double smx_time_now(void);

/* Bytes of memory this process can still get: the least of physical memory, RLIMIT_AS and
 * RLIMIT_DATA (minus what is mapped now for the address-space limits). */
double smx_mem_available(void);

#endif
