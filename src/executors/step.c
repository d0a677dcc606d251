/* The executor that runs a built-in step (src/steps/) on the run's worker pool, with its own timeout. */
#include <signal.h>
#include <stdlib.h>

#include "../events.h"
#include "../executor.h"
#include "../pool.h"
#include "../step.h"
#include "../suspend.h"
#include "../util.h"

struct step_exec {
	struct executor x;
	struct executor_env env;
};

/* One running step; the timer outlives it until its close callback. */
struct sjob {
	struct step_job *step;  /* NULL once it has ended */
	struct job *job;
	const struct executor_cb *cb;
	void *ud;
	uv_timer_t timer;       /* the job's timeout */
	bool timed_out;
	uint64_t paused_timer;  /* while paused: suspend_timer()'s value */
};

static bool runs(const struct executor *x, const struct job *j)
{
	(void)x;
	return j->step != NULL;
}

static void step_output(struct step_job *st, int stream, const char *data, size_t len)
{
	struct sjob *sj = step_job_data(st);
	sj->cb->output(sj->ud, stream, data, len);
}

static void timer_closed(uv_handle_t *h)
{
	free(h->data);
}

static void step_done(struct step_job *st, int status)
{
	struct sjob *sj = step_job_data(st);
	struct job *j = sj->job;
	sj->step = NULL;
	if (sj->timed_out)
		j->result = JOB_TIMEOUT;
	else if (j->interrupted && status != STEP_OK)
		j->result = JOB_SIGNAL, j->term_signal = SIGTERM;
	else
		j->result = status == STEP_OK ? JOB_OK : JOB_EXIT, j->exit_code = status;
	uv_timer_stop(&sj->timer);
	uv_close((uv_handle_t *)&sj->timer, timer_closed);
	sj->cb->exited(sj->ud);
}

static const struct step_job_ops step_ops = {step_output, step_done};

static void timeout_cb(uv_timer_t *t)
{
	struct sjob *sj = t->data;
	if (sj->step) {
		sj->timed_out = true;
		step_job_cancel(sj->step);
	}
}

static int start(struct executor *x, struct job *j, const struct executor_cb *cb, void *ud, void **handle)
{
	struct step_exec *sx = (struct step_exec *)x;
	struct pool *pool = sx->env.pool(sx->env.pool_ud);
	if (!pool)
		return UV_EAGAIN;
	struct sjob *sj = xcalloc(1, sizeof *sj);
	sj->job = j;
	sj->cb = cb;
	sj->ud = ud;
	int err = step_job_start(pool, j->step, j->step_argc, j->step_argv, j->dir, &step_ops, sj, &sj->step);
	if (err < 0) {
		free(sj);
		return err;
	}
	uv_timer_init(sx->env.loop, &sj->timer);
	sj->timer.data = sj;
	if (j->timeout_ms)
		uv_timer_start(&sj->timer, timeout_cb, j->timeout_ms, 0);
	*handle = sj;
	return 0;
}

static void stop(struct executor *x, void *handle, enum executor_stop how)
{
	(void)x;
	struct sjob *sj = handle;
	if (!sj->step || how == STOP_UNQUEUE)
		return;
	if (how == STOP_TIMEOUT)
		sj->timed_out = true;
	step_job_cancel(sj->step);
}

/* The step's thread stops with weft; only its timeout needs holding. */
static void pause_step(struct executor *x, void *handle, bool pause)
{
	(void)x;
	struct sjob *sj = handle;
	if (pause) {
		sj->paused_timer = suspend_timer(&sj->timer);
	} else {
		suspend_timer_resume(&sj->timer, timeout_cb, sj->paused_timer);
		sj->paused_timer = 0;
	}
}

static void step_free(struct executor *x)
{
	free(x);
}

struct executor *executor_step_new(const struct executor_env *env)
{
	struct step_exec *sx = xcalloc(1, sizeof *sx);
	sx->x.runs = runs;
	sx->x.start = start;
	sx->x.stop = stop;
	sx->x.pause = pause_step;
	sx->x.free = step_free;
	sx->env = *env;
	return &sx->x;
}
