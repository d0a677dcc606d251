/* Ctrl-Z: timers that do not count the time weft and its jobs were stopped. */
#ifndef WEFT_SUSPEND_H
#define WEFT_SUSPEND_H

#include <stdint.h>
#include <uv.h>

/* Stops t, if it is running, and returns what it had left plus one (0:
 * it was not running), for suspend_timer_resume(). */
uint64_t suspend_timer(uv_timer_t *t);

/* Starts t again with what suspend_timer() returned, as a one-shot with
 * cb; nothing when that was 0. The loop's clock must be up to date
 * (uv_update_time) or the time stopped would count after all. */
void suspend_timer_resume(uv_timer_t *t, uv_timer_cb cb, uint64_t saved);

#endif
