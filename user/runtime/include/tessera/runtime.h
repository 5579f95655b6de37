/* The Tessera user runtime as C programs see it: the entry point a program defines and the
 * runtime calls it makes. Also valid C++; the C library itself works as usual on top. */
#pragma once

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* crt0 calls it with the two start-up registers x0 and x1. A root task defines it (x0: its boot
 * info); for a protection domain started at run time the runtime defines it (x0: its startup
 * record, abi/startup.hpp) and calls the program's main(argc, argv, envp). Returning from it
 * ends the program with status 0. */
void tessera_start(uint64_t, uint64_t);

/* A protection domain's parent endpoint (x0 at entry): where exit reports the status. */
void tessera_set_parent_endpoint(uint64_t slot);

/* The heap malloc draws from: [base, base + size), grown by sbrk only within it. A PD's runtime
 * sets it from the startup record before main; a root task sets it before the first
 * allocation (without one every allocation fails with ENOMEM). */
void tessera_set_heap_region(uint64_t base, uint64_t size);
void tessera_heap_region(uint64_t* base, uint64_t* size);

/* Ends the program with a status: crt0 calls it with 0 if tessera_start returns, exit() once
 * stdout is flushed. A protection domain reports the status to its parent
 * (user/runtime/pd_exit.cpp); the root task halts the system with it (root_exit.cpp). */
__attribute__((noreturn)) void tessera_exit(int status);

#ifdef __cplusplus
}
#endif
