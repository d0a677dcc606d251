/* The guard: stops every job's process group when weft dies by any means, SIGKILL included. */
#ifndef WEFT_GUARD_H
#define WEFT_GUARD_H

#include <sys/types.h>

/* Lists a job's process group, to be stopped if weft dies before
 * guard_remove; the first call starts the guard process. Returns the slot
 * to remove it by, or -1 (the group is not guarded: no guard could be
 * started, or too many groups at once). */
int guard_add(pid_t pgid);

/* The group is gone (or weft has stopped it itself); slot -1 is ignored. */
void guard_remove(int slot);

/* Ends the guard, if one was started, and waits for it: on weft's way out,
 * once no job is left. */
void guard_end(void);

/* The guard's pid, or -1 while there is none: weft's child, reaped by
 * guard_end(). */
pid_t guard_pid(void);

/* weft --guard, which guard_add starts: fd 0 the pipe from weft, fd 3 the
 * table. Returns when weft has gone and its groups are stopped. */
int guard_main(void);

#endif
