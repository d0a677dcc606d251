/* As PID 1 (a container's entrypoint) or a child subreaper, weft inherits the orphans of its jobs: it reaps them, never its own children, whose exit statuses belong to their owners. */
#ifndef WEFT_REAPER_H
#define WEFT_REAPER_H

#include <uv.h>

/* Starts reaping orphans on loop when weft is PID 1 or a subreaper
 * (idempotent; nothing otherwise). */
void reaper_watch(uv_loop_t *loop);

/* Ends it; at the end of a run. */
void reaper_shutdown(void);

#endif
