/* Ctrl-Z: timers that do not count the time weft and its jobs were stopped. */
#include "suspend.h"

uint64_t suspend_timer(uv_timer_t *t)
{
	if (!uv_is_active((uv_handle_t *)t))
		return 0;
	uint64_t left = uv_timer_get_due_in(t);
	uv_timer_stop(t);
	return left + 1;
}

void suspend_timer_resume(uv_timer_t *t, uv_timer_cb cb, uint64_t saved)
{
	if (saved)
		uv_timer_start(t, cb, saved - 1, 0);
}
