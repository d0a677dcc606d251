/* Jobs that stopped instead of running (a process that wants the terminal, SIGTTIN or SIGTTOU, or one that stopped itself), found at once and reported. */
#ifndef WEFT_STOPPED_H
#define WEFT_STOPPED_H

#include <uv.h>

/* Starts watching the live children of proc.h on loop (idempotent): each
 * stop is reported once through the proc's ops->stopped, until weft
 * itself continues it. */
void stopped_watch(uv_loop_t *loop);

/* Ends the watch; at the end of a run. */
void stopped_shutdown(void);

#endif
