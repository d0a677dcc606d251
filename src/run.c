/* The runner: takes jobs from a job source when a slot is free, starts each through its executor, and reports their lives as events; handles signals. */
#include "run.h"

#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>
#include <uv.h>

#include "cancel.h"
#include "events.h"
#include "executor.h"
#include "jobserver.h"
#include "jobsrc.h"
#include "outrules.h"
#include "pool.h"
#include "term.h"
#include "util.h"

/* A slot of -j: the job running in it, and how. */
struct running {
	struct job *job;          /* NULL: the slot is free */
	struct executor *x;
	void *handle;             /* the executor's */
	struct runner *r;
	bool started;             /* it has (an executor that holds jobs says when) */
	int token;                /* jobserver: what the job holds (JS_IMPLICIT, a byte); -1: none */
};

struct runner {
	uv_loop_t *loop;          /* libuv's default loop, shared with the job source */
	const struct run_opts *o;
	unsigned jobs;            /* slots */
	unsigned cap;             /* jobs handed out at most: jobs, more with ahead */
	bool ahead;               /* the executor holds jobs before they start */
	struct jobsrc *src;
	struct events *ev;
	struct running *slots;    /* jobs of them (cap of them) */
	unsigned nactive;
	struct jobserver *js;     /* NULL: slots alone decide */
	/* The jobserver counted again once no job runs: js, or with ahead the
	 * one a cluster's runners take their tokens from (they give a job's
	 * token back before its end reaches here). */
	struct jobserver *js_pool;
	bool implicit_held;       /* a running job holds the jobserver's implicit token */
	bool ran;                 /* a job ran since the jobserver's pool was last counted */
	int spare;                /* a token a job just gave up, for the next job to start; -1: none */
	struct executor *executors[2];
	size_t nexecutors;
	int signal;               /* first signal that stopped the run, 0: none */
	int signals_seen;
	bool stopped;
	uv_signal_t sig[3];
	uv_signal_t tstp;         /* Ctrl-Z */
	uv_timer_t tick;
	bool busy;                /* inside start_ready */
	struct pool *pool;        /* worker threads, made on first use */
	uv_timer_t lag;           /* WEFT_LOOP_LAG: a 10 ms timer whose lateness is the loop's lag */
	uint64_t lag_due;
	uint32_t *lags;           /* microseconds late, one per tick */
	size_t nlags, lags_cap;
	const char *lag_file;
};

static const int stop_signals[3] = {SIGINT, SIGTERM, SIGHUP};

/* Whether stop_signals[i] was ignored when weft started (nohup; SIGINT
 * for a command a script starts with &): it stays ignored, as make keeps
 * it. Read once, before libuv has put its own handler in place. */
static bool ignored_at_start(size_t i)
{
	static int ignored = -1; /* a bit per stop signal */
	if (ignored < 0) {
		ignored = 0;
		for (size_t k = 0; k < 3; k++) {
			struct sigaction old;
			if (sigaction(stop_signals[k], NULL, &old) == 0 && old.sa_handler == SIG_IGN)
				ignored |= 1 << k;
		}
	}
	return ignored & (1 << i);
}

/* Whether SIGTSTP was ignored when weft started (a shell without job
 * control ignores it for its children): Ctrl-Z then stops nothing. Read
 * before libuv has put its own handler in place. */
static bool tstp_ignored_at_start(void)
{
	static int ignored = -1;
	if (ignored < 0) {
		struct sigaction old;
		ignored = sigaction(SIGTSTP, NULL, &old) == 0 && old.sa_handler == SIG_IGN;
	}
	return ignored;
}

static void start_ready(struct runner *r);
static void job_gone(struct runner *r, struct job *j);
static void give_token(struct runner *r, int token);

static void job_finished(struct runner *r, struct job *j)
{
	/* A decided job ran nothing: it ends where it started. */
	j->end_ns = j->decided && j->start_ns ? j->start_ns : now_ns();
	j->pid = 0;
	if (j->check)
		outcheck_judge(j->check, j);
	if (j->result != JOB_OK && !j->interrupted && !r->stopped && r->src->retry && r->src->retry(r->src, j)) {
		events_job(r->ev, EV_RETRY, j);
		outcheck_free(j->check);
		j->check = NULL;
		return;
	}
	if (j->result == JOB_OK && !j->capture && !j->decided && r->src->settle && r->src->settle(r->src, j))
		return;
	if (!j->capture)
		events_job_at(r->ev, EV_FINISHED, j, j->end_ns);
	job_gone(r, j);
}

/* After EV_FINISHED: every sink has seen what the rules found, and kept
 * what it needs; the source may free the job. */
static void job_gone(struct runner *r, struct job *j)
{
	outcheck_free(j->check);
	j->check = NULL;
	r->src->done(r->src, j);
}

void runner_settled(struct runner *r, struct job *j)
{
	events_job(r->ev, EV_FINISHED, j);
	job_gone(r, j);
	start_ready(r);
}

static void job_output(void *ud, int stream, const char *data, size_t len)
{
	struct running *rj = ud;
	struct job *j = rj->job;
	if (stream == 1)
		j->out_bytes += len;
	if (j->capture) {
		buf_add(&j->capture[stream - 1], data, len);
		return;
	}
	if (j->check)
		outcheck_feed(j->check, stream, data, len);
	struct event ev = {.type = EV_OUTPUT, .job = j, .stream = stream, .data = data, .len = len};
	events_emit(rj->r->ev, &ev);
}

/* The job runs now: with an executor that holds jobs, when it says so. */
static void job_started(void *ud, unsigned slot)
{
	struct running *rj = ud;
	struct job *j = rj->job;
	if (rj->started)
		return;
	rj->started = true;
	if (slot)
		j->slot = slot;
	j->start_ns = now_ns();
	if (!j->capture)
		events_job(rj->r->ev, EV_STARTED, j);
}

static void job_exited(void *ud)
{
	struct running *rj = ud;
	struct runner *r = rj->r;
	struct job *j = rj->job;
	if (!rj->started)
		job_started(rj, 0);
	rj->job = NULL;
	rj->handle = NULL;
	r->nactive--;
	if (j->console) {
		term_suspend(false);
		/* Control-C on the terminal reached the console job alone, in
		 * the foreground: it was meant for the run, as a shell takes it. */
		if (j->result == JOB_SIGNAL && j->term_signal == SIGINT && !r->signal) {
			r->signal = SIGINT;
			r->signals_seen++;
			cancel_raise();
			runner_stop(r, false);
		}
	}
	/* A job that ends and one that starts in its place hand the token
	 * over, rather than write it to the jobserver and read it back. */
	int token = rj->token;
	rj->token = -1;
	bool keep = token >= 0 && token != JS_IMPLICIT && r->spare < 0;
	if (keep)
		r->spare = token;
	else
		give_token(r, token);
	job_finished(r, j);
	start_ready(r);
	if (keep && r->spare >= 0) {
		token = r->spare;
		r->spare = -1;
		give_token(r, token);
	}
}

static void job_stopped(void *ud, const char *why)
{
	struct running *rj = ud;
	events_say(rj->r->ev, MSG_ERROR, rj->job, "job '%s' stopped: %s", rj->job->name, why);
}

static void job_unstarted(void *ud)
{
	struct running *rj = ud;
	struct runner *r = rj->r;
	struct job *j = rj->job;
	rj->job = NULL;
	rj->handle = NULL;
	r->nactive--;
	give_token(r, rj->token);
	rj->token = -1;
	j->start_ns = 0;
	j->slot = 0;
	outcheck_free(j->check);
	j->check = NULL;
	r->src->unstart(r->src, j);
	start_ready(r);
}

static const struct executor_cb job_cb = {job_output, job_exited, job_stopped, job_started, job_unstarted};

/* A jobserver token for one more job, or -1 when none is there now (the
 * jobserver then calls back once one may be). The first job takes the
 * implicit one. Without a jobserver: JS_IMPLICIT, always. */
static int take_token(struct runner *r)
{
	if (!r->js)
		return JS_IMPLICIT;
	if (!r->implicit_held) {
		r->implicit_held = true;
		return JS_IMPLICIT;
	}
	if (r->spare >= 0) {
		int token = r->spare;
		r->spare = -1;
		return token;
	}
	return jobserver_take(r->js);
}

/* Gives back what a job held, on every end it can have. */
static void give_token(struct runner *r, int token)
{
	if (token == JS_IMPLICIT)
		r->implicit_held = false;
	else if (r->js)
		jobserver_give(r->js, token);
	/* Only a job that ran can have taken a token with it: a job decided
	 * without running (up to date) spares the count, two syscalls. */
	if (r->js_pool && r->nactive == 0 && r->ran) {
		r->ran = false;
		jobserver_idle(r->js_pool);
	}
}

static void token_ready(void *ud)
{
	start_ready(ud);
}

struct pool *runner_pool(struct runner *r)
{
	if (!r->pool && pool_new(r->loop, r->jobs, &r->pool) < 0)
		r->pool = NULL;
	return r->pool;
}

static struct pool *pool_for_executor(void *ud)
{
	return runner_pool(ud);
}

static unsigned free_slot(struct runner *r)
{
	for (unsigned i = 0; i < r->cap; i++)
		if (!r->slots[i].job)
			return i + 1;
	abort();
}

static struct executor *executor_for(struct runner *r, const struct job *j)
{
	for (size_t i = 0; i < r->nexecutors; i++)
		if (r->executors[i]->runs(r->executors[i], j))
			return r->executors[i];
	abort();
}

static void start_job(struct runner *r, struct job *j, unsigned slot)
{
	j->slot = slot;
	j->interrupted = 0;
	j->out_bytes = 0;
	j->pid = 0;
	j->start_ns = now_ns();
	if (j->decided) {
		/* The source knows the outcome: report it, run nothing. */
		if (!j->capture)
			events_job_at(r->ev, EV_STARTED, j, j->start_ns);
		job_finished(r, j);
		return;
	}
	j->result = JOB_PENDING;
	if (!j->step && (!j->cmd || !*j->cmd)) {
		if (!j->capture)
			events_job(r->ev, EV_STARTED, j);
		j->result = JOB_OK;
		job_finished(r, j);
		return;
	}
	if (j->rules && !j->capture)
		j->check = outcheck_new(j->rules);
	struct running *rj = &r->slots[slot - 1];
	struct executor *x = executor_for(r, j);
	rj->r = r;
	rj->job = j;
	rj->started = !r->ahead;
	/* {%} is the slot: with ahead, entries past -j share the numbers
	 * (no source that uses them lets jobs be held), and the job's own
	 * comes when it starts. */
	j->slot = (slot - 1) % r->jobs + 1;
	if (r->ahead)
		j->start_ns = 0;
	int err = x->start(x, j, &job_cb, rj, &rj->handle);
	if (err < 0) {
		rj->job = NULL;
		j->start_ns = now_ns();
		if (!j->capture)
			events_job(r->ev, EV_STARTED, j);
		j->result = JOB_SPAWN_ERROR;
		j->spawn_error = err;
		job_finished(r, j);
		return;
	}
	rj->x = x;
	r->nactive++;
	r->ran = true;
	if (j->console)
		term_suspend(true);
	if (!j->capture && !r->ahead)
		events_job(r->ev, EV_STARTED, j);
}

static void start_ready(struct runner *r)
{
	/* Jobs that end at once re-enter through job_finished; this one loop
	 * picks up whatever they made ready, without recursion. */
	if (r->busy)
		return;
	r->busy = true;
	if (r->js)
		jobserver_unwatch(r->js);
	while (!r->stopped && r->nactive < r->cap) {
		/* The token first: a job taken from the source cannot go back. */
		int token = take_token(r);
		if (token < 0)
			break;
		unsigned slot = free_slot(r);
		struct job *j = r->src->next(r->src, (slot - 1) % r->jobs + 1);
		if (!j) {
			give_token(r, token);
			break;
		}
		start_job(r, j, slot);
		if (r->slots[slot - 1].job == j)
			r->slots[slot - 1].token = token;
		else
			give_token(r, token); /* it ended at once, or never started */
	}
	r->busy = false;
}

void runner_kick(struct runner *r)
{
	start_ready(r);
}

void runner_halt(struct runner *r)
{
	if (r->stopped)
		return;
	r->stopped = true;
	r->src->stop(r->src);
	/* Jobs handed out that have not started never do. */
	runner_unqueue(r, NULL);
}

void runner_unqueue(struct runner *r, bool (*which)(const struct job *j))
{
	for (unsigned i = 0; i < r->cap; i++) {
		struct running *rj = &r->slots[i];
		if (rj->job && !rj->started && (!which || which(rj->job)))
			rj->x->stop(rj->x, rj->handle, STOP_UNQUEUE);
	}
}

static struct running *running_of(struct runner *r, const struct job *j)
{
	/* Without jobs held ahead, a job's entry is its slot's. */
	if (!r->ahead) {
		struct running *rj = j->slot ? &r->slots[j->slot - 1] : NULL;
		return rj && rj->job == j ? rj : NULL;
	}
	for (unsigned i = 0; i < r->cap; i++)
		if (r->slots[i].job == j)
			return &r->slots[i];
	return NULL;
}

static void halt_cb(void *ud)
{
	runner_halt(ud);
}

void runner_timeout(struct runner *r, struct job *j)
{
	struct running *rj = running_of(r, j);
	if (rj)
		rj->x->stop(rj->x, rj->handle, STOP_TIMEOUT);
}

void runner_stop_job(struct runner *r, struct job *j, bool hard)
{
	struct running *rj = running_of(r, j);
	if (rj) {
		j->interrupted = 1;
		rj->x->stop(rj->x, rj->handle, hard ? STOP_HARD : STOP_GRACEFUL);
	}
}

void runner_stop(struct runner *r, bool hard)
{
	runner_halt(r);
	for (unsigned i = 0; i < r->cap; i++) {
		struct running *rj = &r->slots[i];
		if (!rj->job)
			continue;
		rj->job->interrupted = 1;
		rj->x->stop(rj->x, rj->handle, hard ? STOP_HARD : STOP_GRACEFUL);
	}
}

static void signal_cb(uv_signal_t *h, int signum)
{
	struct runner *r = h->data;
	r->signals_seen++;
	if (!r->signal)
		r->signal = signum;
	/* Work on the worker threads (hashing, listing) gives up too. */
	cancel_raise();
	/* A second signal means "now": no grace period. */
	runner_stop(r, r->signals_seen > 1);
}

static void pause_jobs(struct runner *r, bool pause)
{
	for (unsigned i = 0; i < r->cap; i++) {
		struct running *rj = &r->slots[i];
		if (rj->job && rj->x->pause)
			rj->x->pause(rj->x, rj->handle, pause);
	}
}

/* Ctrl-Z. Jobs run in process groups of their own, out of reach of the
 * terminal's SIGTSTP: weft stops each group, then itself; once continued
 * (fg, bg, SIGCONT), it continues them, their timeouts not counting the
 * time stopped, and draws the status line again. */
static void tstp_cb(uv_signal_t *h, int signum)
{
	struct runner *r = h->data;
	(void)signum;
	pause_jobs(r, true);
	term_suspend(true);
	/* SIGSTOP, not SIGTSTP: it cannot be caught (libuv's handler would
	 * only bring us back here), and stops weft even in an orphaned
	 * process group, where the kernel drops SIGTSTP. */
	kill(getpid(), SIGSTOP);
	uv_update_time(r->loop);
	pause_jobs(r, false);
	term_suspend(false);
}

static void broken_pipe(void *ud)
{
	struct runner *r = ud;
	if (r->signal)
		return;
	r->signal = SIGPIPE;
	cancel_raise();
	runner_stop(r, false);
}

static void tick_cb(uv_timer_t *t)
{
	struct runner *r = t->data;
	events_job(r->ev, EV_TICK, NULL);
}

#define LAG_TICK_MS 10

static void lag_cb(uv_timer_t *t)
{
	struct runner *r = t->data;
	uint64_t now = now_ns();
	uint64_t late = now > r->lag_due ? (now - r->lag_due) / 1000 : 0;
	grow(&r->lags, &r->lags_cap, r->nlags + 1, sizeof *r->lags);
	r->lags[r->nlags++] = late > UINT32_MAX ? UINT32_MAX : (uint32_t)late;
	r->lag_due = now + LAG_TICK_MS * 1000000ull;
}

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
	return x < y ? -1 : x > y;
}

/* Writes "p50_ms p99_ms max_ms samples" for make bench. */
static void lag_report(struct runner *r)
{
	FILE *f = fopen(r->lag_file, "we");
	if (!f)
		return;
	if (r->nlags) {
		qsort(r->lags, r->nlags, sizeof *r->lags, cmp_u32);
		fprintf(f, "%.2f %.2f %.2f %zu\n", r->lags[r->nlags / 2] / 1000.0,
			r->lags[(r->nlags * 99) / 100] / 1000.0, r->lags[r->nlags - 1] / 1000.0, r->nlags);
	} else {
		fprintf(f, "0 0 0 0\n");
	}
	fclose(f);
}

/* WEFT_RUSAGE=FILE (for make bench): "user_us system_us" of this process
 * alone (not its jobs, not a cluster's runners), what one job costs it. */
static void rusage_report(const char *path)
{
	struct rusage ru;
	FILE *f = fopen(path, "we");
	if (!f || getrusage(RUSAGE_SELF, &ru) < 0) {
		if (f)
			fclose(f);
		return;
	}
	fprintf(f, "%lld %lld\n", (long long)ru.ru_utime.tv_sec * 1000000 + ru.ru_utime.tv_usec,
		(long long)ru.ru_stime.tv_sec * 1000000 + ru.ru_stime.tv_usec);
	fclose(f);
}

static void close_cb(uv_handle_t *h)
{
	(void)h;
}

/* Each running job holds up to 5 fds (two pipes, a pidfd, two spill
 * files in group mode) and weft needs some of its own: lower -j rather
 * than fail jobs half-way for want of an fd. */
#define FDS_PER_JOB 5
#define FDS_RESERVED 32

unsigned run_max_jobs(void)
{
	struct rlimit rl;
	if (getrlimit(RLIMIT_NOFILE, &rl) < 0 || rl.rlim_cur == RLIM_INFINITY)
		return UINT_MAX;
	long room = ((long)rl.rlim_cur - FDS_RESERVED) / FDS_PER_JOB;
	return room < 1 ? 1 : room > UINT_MAX ? UINT_MAX : (unsigned)room;
}

unsigned run_fit_jobs(unsigned jobs)
{
	unsigned fit = run_max_jobs();
	return jobs <= fit ? jobs : fit;
}

static void warn_fit(struct events *ev, unsigned asked, unsigned fit)
{
	struct rlimit rl;
	getrlimit(RLIMIT_NOFILE, &rl);
	events_say(ev, MSG_WARNING, NULL, "running at most %u job%s at once, not %u: only %lu files may be open (ulimit -n)",
		   fit, fit == 1 ? "" : "s", asked, (unsigned long)rl.rlim_cur);
}

void run_jobs(struct events *ev, struct jobsrc *src, const struct run_opts *o, struct run_result *res)
{
	struct runner r;
	memset(&r, 0, sizeof r);
	memset(res, 0, sizeof *res);
	cancel_clear();
	r.o = o;
	r.jobs = run_fit_jobs(o->jobs);
	if (r.jobs < o->jobs)
		warn_fit(ev, o->jobs, r.jobs);
	r.src = src;
	r.ev = ev;
	/* A cluster's runners may hold jobs ahead of a free slot, when the
	 * source allows it; they take the jobserver's tokens themselves. */
	r.ahead = o->cluster && !o->dry && !o->no_ahead && src->ahead_ok && src->unstart;
	r.cap = r.ahead ? r.jobs * EXECUTOR_AHEAD : r.jobs;
	r.slots = xcalloc(r.cap, sizeof *r.slots);
	r.js = r.ahead ? NULL : o->js;
	r.js_pool = o->js;
	r.implicit_held = o->no_implicit;
	r.spare = -1;
	if (r.js)
		jobserver_attach(r.js, uv_default_loop(), token_ready, &r);
	r.loop = uv_default_loop();
	struct executor_env xe = {
		.loop = r.loop,
		.grace_ms = o->grace_ms,
		.shell = o->shell,
		.direct = o->direct,
		.envp = o->envp,
		.pool = pool_for_executor,
		.pool_ud = &r,
		.ev = ev,
		.runners = o->cluster,
		.requeue = o->requeue,
		.slots = r.jobs,
		.ahead = r.ahead,
		.js = r.ahead ? o->js : NULL,
	};
	if (o->dry) {
		r.executors[r.nexecutors++] = executor_dry_new(&xe);
		r.executors[r.nexecutors++] = executor_process_new(&xe);
	} else if (o->cluster) {
		r.executors[r.nexecutors++] = executor_cluster_new(&xe);
	} else {
		r.executors[r.nexecutors++] = executor_step_new(&xe);
		r.executors[r.nexecutors++] = executor_process_new(&xe);
	}
	src->runner = &r;
	src->ev = ev;
	ev->halt = halt_cb;
	ev->halt_ud = &r;
	term_on_broken_pipe(broken_pipe, &r);

	for (size_t i = 0; i < 3; i++) {
		uv_signal_init(r.loop, &r.sig[i]);
		r.sig[i].data = &r;
		if (!ignored_at_start(i))
			uv_signal_start(&r.sig[i], signal_cb, stop_signals[i]);
		uv_unref((uv_handle_t *)&r.sig[i]);
	}
	uv_signal_init(r.loop, &r.tstp);
	r.tstp.data = &r;
	if (!tstp_ignored_at_start())
		uv_signal_start(&r.tstp, tstp_cb, SIGTSTP);
	uv_unref((uv_handle_t *)&r.tstp);
	uv_timer_init(r.loop, &r.tick);
	r.tick.data = &r;
	uv_timer_start(&r.tick, tick_cb, 0, 100);
	uv_unref((uv_handle_t *)&r.tick);

	/* WEFT_LOOP_LAG=FILE (for make bench): how late a 10 ms timer fires
	 * while the run goes on, i.e. how long the loop was kept from its work. */
	r.lag_file = getenv("WEFT_LOOP_LAG");
	uv_timer_init(r.loop, &r.lag);
	r.lag.data = &r;
	if (r.lag_file) {
		r.lag_due = now_ns() + LAG_TICK_MS * 1000000ull;
		uv_timer_start(&r.lag, lag_cb, LAG_TICK_MS, LAG_TICK_MS);
		uv_unref((uv_handle_t *)&r.lag);
	}

	if (src->begin)
		src->begin(src);
	if (ev->halted)
		runner_halt(&r);
	start_ready(&r);
	uv_run(r.loop, UV_RUN_DEFAULT);
	if (r.lag_file)
		lag_report(&r);
	uv_close((uv_handle_t *)&r.lag, close_cb);
	free(r.lags);

	/* finish() closes the source's own handles; the uv_run below ends them. */
	src->finish(src);
	if (r.js)
		jobserver_detach(r.js);

	if (r.pool)
		pool_close(r.pool, NULL);
	for (size_t i = 0; i < r.nexecutors; i++)
		r.executors[i]->free(r.executors[i]);
	for (size_t i = 0; i < 3; i++)
		uv_close((uv_handle_t *)&r.sig[i], close_cb);
	uv_close((uv_handle_t *)&r.tstp, close_cb);
	uv_close((uv_handle_t *)&r.tick, close_cb);
	uv_run(r.loop, UV_RUN_DEFAULT);
	term_on_broken_pipe(NULL, NULL);
	const char *ru = getenv("WEFT_RUSAGE");
	if (ru)
		rusage_report(ru);
	ev->halt = NULL;
	ev->halt_ud = NULL;
	src->runner = NULL;
	res->signal = r.signal;
	free(r.slots);
}
