/* The executor of a dry run (weft -n): each job succeeds on the loop's next turn without running anything; what it would run is the dry-run sink's to print. */
#include <stdlib.h>

#include "../events.h"
#include "../executor.h"
#include "../util.h"

struct dry_exec {
	struct executor x;
};

/* A job that is "running": its timer fires at once, on the next turn,
 * so the runner sees it start before it ends. */
struct djob {
	uv_timer_t timer;
	struct job *job;
	const struct executor_cb *cb;
	void *ud;
};

static bool runs(const struct executor *x, const struct job *j)
{
	(void)x;
	/* Listing a foreach's items (cmd:) must run even in a dry run. */
	return !j->capture;
}

static void closed_cb(uv_handle_t *h)
{
	free(h->data);
}

static void fire_cb(uv_timer_t *t)
{
	struct djob *d = t->data;
	d->job->result = d->job->interrupted ? JOB_SIGNAL : JOB_OK;
	d->cb->exited(d->ud);
	uv_close((uv_handle_t *)&d->timer, closed_cb);
}

static int start(struct executor *x, struct job *j, const struct executor_cb *cb, void *ud, void **handle)
{
	(void)x;
	struct djob *d = xcalloc(1, sizeof *d);
	d->job = j;
	d->cb = cb;
	d->ud = ud;
	uv_timer_init(uv_default_loop(), &d->timer);
	d->timer.data = d;
	uv_timer_start(&d->timer, fire_cb, 0, 0);
	*handle = d;
	return 0;
}

static void stop(struct executor *x, void *handle, enum executor_stop how)
{
	(void)x;
	(void)handle;
	(void)how;
	/* It ends on the next turn anyway. */
}

static void dry_free(struct executor *x)
{
	free(x);
}

struct executor *executor_dry_new(const struct executor_env *env)
{
	(void)env;
	struct dry_exec *d = xcalloc(1, sizeof *d);
	d->x.runs = runs;
	d->x.start = start;
	d->x.stop = stop;
	d->x.free = dry_free;
	return &d->x;
}
