/* A guard for "no heap, no threads" tests: link the program with
 *   -Wl,--wrap=malloc,--wrap=calloc,--wrap=realloc,--wrap=free,--wrap=posix_memalign
 *   -Wl,--wrap=aligned_alloc,--wrap=pthread_create
 * and no_heap_guard.c. While armed, any call to those functions from any object file of the
 * program (the m1c library included) prints which one and aborts. */
#ifndef M1C_NO_HEAP_GUARD_H
#define M1C_NO_HEAP_GUARD_H

void no_heap_guard_arm(void);
void no_heap_guard_disarm(void);
/* Calls that went through the wrappers while disarmed (a sanity check that the wrapping took
 * effect: the test program itself mallocs before arming). */
unsigned long no_heap_guard_calls(void);

#endif
