/* The run: starts jobs from a job source as child processes on the libuv loop, feeds their events to the sinks, handles signals. */
#include "run.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>
#include <sys/wait.h>
#include <uv.h>

#include "events.h"
#include "hashtab.h"
#include "jobsrc.h"
#include "pool.h"
#include "proc.h"
#include "step.h"
#include "term.h"
#include "util.h"

/* A running job: a child process, or a built-in step on the pool. */
struct running {
	struct proc proc;
	struct job *job;
	struct runner *r;
	struct step_job *step;  /* a step: NULL once it has ended */
	uv_timer_t timer;       /* a step's timeout */
	bool timed_out;
};

struct runner {
	uv_loop_t *loop;          /* libuv's default loop, shared with the job source */
	const struct run_opts *o;
	struct jobsrc *src;
	struct running **slots;   /* o->jobs of them; NULL: free */
	unsigned nactive;
	unsigned seq;
	int signal;               /* first signal that stopped the run, 0: none */
	int signals_seen;
	bool stopped;
	uv_signal_t sig[3];
	uv_timer_t tick;
	bool busy;                /* inside start_ready */
	struct pool *pool;        /* worker threads for steps, made on first use */
	struct hashtab *paths;    /* program name -> where PATH has it ("": nowhere) */
	char **path_keys;         /* the names and paths the table holds, to free */
	size_t npath_keys, path_keys_cap;
	uv_timer_t lag;           /* WEFT_LOOP_LAG: a 10 ms timer whose lateness is the loop's lag */
	uint64_t lag_due;
	uint32_t *lags;           /* microseconds late, one per tick */
	size_t nlags, lags_cap;
	const char *lag_file;
	struct run_result *res;
};

static struct runner *the_runner;
static const int stop_signals[3] = {SIGINT, SIGTERM, SIGHUP};

static void start_ready(struct runner *r);

static void job_finished(struct runner *r, struct job *j)
{
	j->end_ns = now_ns();
	if (j->result != JOB_OK && !j->interrupted && !r->stopped && r->src->retry && r->src->retry(r->src, j)) {
		events_emit_simple(EV_RETRY, j);
		return;
	}
	if (j->capture) {
		r->src->done(r->src, j);
		return;
	}
	if (j->result == JOB_OK)
		r->res->ok++;
	else
		r->res->failed++;
	events_emit_simple(EV_FINISHED, j);
	r->src->done(r->src, j);
}

static void proc_output(struct proc *p, int stream, const char *data, size_t len)
{
	struct running *rj = p->data;
	if (stream == 1)
		rj->job->out_bytes += len;
	if (rj->job->capture) {
		buf_add(&rj->job->capture[stream - 1], data, len);
		return;
	}
	struct event ev = {.type = EV_OUTPUT, .job = rj->job, .stream = stream, .data = data, .len = len};
	events_emit(&ev);
}

static void proc_done(struct proc *p)
{
	struct running *rj = p->data;
	struct runner *r = rj->r;
	struct job *j = rj->job;
	if (p->timed_out) {
		j->result = JOB_TIMEOUT;
	} else if (WIFEXITED(p->status)) {
		j->exit_code = WEXITSTATUS(p->status);
		j->result = j->exit_code ? JOB_EXIT : JOB_OK;
	} else if (WIFSIGNALED(p->status)) {
		j->term_signal = WTERMSIG(p->status);
		j->result = JOB_SIGNAL;
	} else {
		j->result = JOB_EXIT;
		j->exit_code = 1;
	}
	r->slots[j->slot - 1] = NULL;
	r->nactive--;
	rj->job = NULL;
	job_finished(r, j);
	start_ready(r);
}

static void proc_closed(struct proc *p)
{
	free(p->data);
}

static const struct proc_ops ops = {proc_output, proc_done, proc_closed};

/* Words of a one-line command that needs no shell: no quoting, no
 * expansion, no operators, and not a shell builtin that changes the shell
 * itself. Such commands are exec'd directly, as make does, saving a shell
 * start per job. Returns NULL when the shell is needed. */
static char **direct_argv(const char *cmd)
{
	static const char *const builtins[] = {
		".", ":", "alias", "break", "case", "cd", "command", "continue", "eval", "exec", "exit", "export",
		"for", "getopts", "hash", "if", "read", "readonly", "return", "set", "shift", "times", "trap",
		"type", "ulimit", "umask", "unalias", "unset", "until", "wait", "while", "{", "!", NULL,
	};
	if (!*cmd || strpbrk(cmd, "\"'`$&|;<>(){}[]*?~#!=%^\\\n\t\r") || strlen(cmd) > 4096)
		return NULL;
	size_t n;
	char **argv = split_blanks(cmd, &n);
	for (const char *const *b = builtins; n && *b; b++)
		if (strcmp(argv[0], *b) == 0)
			n = 0;
	if (!n) {
		free_words(argv);
		return NULL;
	}
	return argv;
}

/* Where PATH has the program `name`, looked up once per run: posix_spawnp
 * would try every PATH directory in the vforked child for every job, with
 * weft waiting. NULL when it is not there (the shell then says so). */
static const char *which(struct runner *r, const char *name)
{
	if (strchr(name, '/'))
		return name;
	if (!r->paths)
		r->paths = hashtab_new();
	const char *hit = hashtab_get(r->paths, name);
	if (hit)
		return *hit ? hit : NULL;
	const char *path = getenv("PATH");
	char *found = NULL;
	for (const char *p = path ? path : "/usr/bin:/bin"; !found;) {
		size_t n = strcspn(p, ":");
		char *cand = n ? xasprintf("%.*s/%s", (int)n, p, name) : xasprintf("./%s", name);
		struct stat st;
		if (access(cand, X_OK) == 0 && stat(cand, &st) == 0 && S_ISREG(st.st_mode))
			found = cand;
		else
			free(cand);
		if (!p[n])
			break;
		p += n + 1;
	}
	char *key = xstrdup(name);
	char *val = found ? found : xstrdup("");
	grow(&r->path_keys, &r->path_keys_cap, r->npath_keys + 2, sizeof *r->path_keys);
	r->path_keys[r->npath_keys++] = key;
	r->path_keys[r->npath_keys++] = val;
	hashtab_put(r->paths, key, val);
	return found;
}

static char **shell_argv(struct runner *r, struct job *j)
{
	size_t n = 0;
	while (r->o->shell[n])
		n++;
	char **argv = xcalloc(n + 6, sizeof *argv);
	size_t k = 0;
	for (size_t i = 0; i < n; i++)
		argv[k++] = r->o->shell[i];
	/* A multi-line script stops at its first failing line, as make's recipes do. */
	if (j->cmd_lines > 1)
		argv[k++] = "-e";
	argv[k++] = "-c";
	argv[k++] = (char *)j->cmd;
	/* $0: a task's name, so the shell's messages name the task. */
	argv[k++] = j->task ? (char *)j->name : "sh";
	argv[k] = NULL;
	return argv;
}

static void step_output(struct step_job *sj, int stream, const char *data, size_t len)
{
	struct running *rj = step_job_data(sj);
	if (stream == 1)
		rj->job->out_bytes += len;
	struct event ev = {.type = EV_OUTPUT, .job = rj->job, .stream = stream, .data = data, .len = len};
	events_emit(&ev);
}

static void step_timer_closed(uv_handle_t *h)
{
	free(h->data);
}

static void step_done(struct step_job *sj, int status)
{
	struct running *rj = step_job_data(sj);
	struct runner *r = rj->r;
	struct job *j = rj->job;
	rj->step = NULL;
	if (rj->timed_out)
		j->result = JOB_TIMEOUT;
	else if (j->interrupted && status != STEP_OK)
		j->result = JOB_SIGNAL, j->term_signal = SIGTERM;
	else
		j->result = status == STEP_OK ? JOB_OK : JOB_EXIT, j->exit_code = status;
	r->slots[j->slot - 1] = NULL;
	r->nactive--;
	uv_timer_stop(&rj->timer);
	uv_close((uv_handle_t *)&rj->timer, step_timer_closed);
	job_finished(r, j);
	start_ready(r);
}

static const struct step_job_ops step_ops = {step_output, step_done};

static void step_timeout_cb(uv_timer_t *t)
{
	struct running *rj = t->data;
	if (rj->step) {
		rj->timed_out = true;
		step_job_cancel(rj->step);
	}
}

struct pool *run_pool(void *runner)
{
	struct runner *r = runner;
	if (!r->pool && pool_new(r->loop, r->o->jobs, &r->pool) < 0)
		r->pool = NULL;
	return r->pool;
}

/* Starts j's step on the pool; returns 0 or a UV_E* code. */
static int start_step(struct runner *r, struct running *rj, struct job *j)
{
	if (!run_pool(r))
		return UV_EAGAIN;
	int err = step_job_start(r->pool, j->step, j->step_argc, j->step_argv, j->dir, &step_ops, rj,
				 &rj->step);
	if (err < 0)
		return err;
	uv_timer_init(r->loop, &rj->timer);
	rj->timer.data = rj;
	if (j->timeout_ms)
		uv_timer_start(&rj->timer, step_timeout_cb, j->timeout_ms, 0);
	return 0;
}

static unsigned free_slot(struct runner *r)
{
	for (unsigned i = 0; i < r->o->jobs; i++)
		if (!r->slots[i])
			return i + 1;
	abort();
}

static void start_job(struct runner *r, struct job *j, unsigned slot)
{
	r->seq++;
	if (!j->seq)
		j->seq = r->seq;
	j->slot = slot;
	j->result = JOB_PENDING;
	j->interrupted = 0;
	j->out_bytes = 0;
	j->start_ns = now_ns();
	if (!j->capture)
		events_emit_simple(EV_STARTED, j);
	if (!j->step && (!j->cmd || !*j->cmd)) {
		j->result = JOB_OK;
		job_finished(r, j);
		return;
	}
	struct running *rj = xcalloc(1, sizeof *rj);
	rj->job = j;
	rj->r = r;
	if (j->step) {
		int serr = start_step(r, rj, j);
		if (serr < 0) {
			free(rj);
			j->result = JOB_SPAWN_ERROR;
			j->spawn_error = serr;
			job_finished(r, j);
			return;
		}
		r->slots[slot - 1] = rj;
		r->nactive++;
		return;
	}
	struct proc_spawn_opts so = {
		.envp = j->envp ? j->envp : r->o->envp,
		.dir = j->dir,
		.timeout_ms = j->timeout_ms,
		.grace_ms = r->o->grace_ms,
	};
	int err = -ENOENT;
	char **argv = r->o->direct && !j->envp && j->cmd_lines == 1 ? direct_argv(j->cmd) : NULL;
	if (argv) {
		so.argv = argv;
		so.path = which(r, argv[0]);
		if (so.path)
			err = proc_spawn(&rj->proc, r->loop, &so, &ops, rj);
		so.path = NULL;
		free_words(argv);
	}
	/* Not found or not runnable directly: the shell says why, as usual. */
	if (err == -ENOENT || err == -EACCES || err == -ENOEXEC) {
		argv = shell_argv(r, j);
		so.argv = argv;
		so.search_path = false;
		err = proc_spawn(&rj->proc, r->loop, &so, &ops, rj);
		free(argv);
	}
	if (err < 0) {
		free(rj);
		j->result = JOB_SPAWN_ERROR;
		j->spawn_error = err;
		job_finished(r, j);
		return;
	}
	r->slots[j->slot - 1] = rj;
	r->nactive++;
}

static void start_ready(struct runner *r)
{
	/* Jobs that end at once re-enter through job_finished; this one loop
	 * picks up whatever they made ready, without recursion. */
	if (r->busy)
		return;
	r->busy = true;
	while (!r->stopped && r->nactive < r->o->jobs) {
		unsigned slot = free_slot(r);
		struct job *j = r->src->next(r->src, slot);
		if (!j)
			break;
		start_job(r, j, slot);
	}
	r->busy = false;
}

static void kick(void *runner)
{
	start_ready(runner);
}

void run_halt(void *runner)
{
	struct runner *r = runner;
	if (!r->stopped) {
		r->stopped = true;
		r->src->stop(r->src);
	}
}

void run_timeout(void *runner, struct job *j)
{
	struct runner *r = runner;
	struct running *rj = j->slot ? r->slots[j->slot - 1] : NULL;
	if (rj && rj->job == j && rj->step) {
		rj->timed_out = true;
		step_job_cancel(rj->step);
	} else if (rj && rj->job == j && !rj->proc.stopping) {
		rj->proc.timed_out = true;
		proc_stop(&rj->proc);
	}
}

void run_stop(void *runner, bool hard)
{
	struct runner *r = runner;
	run_halt(r);
	for (unsigned i = 0; i < r->o->jobs; i++) {
		struct running *rj = r->slots[i];
		if (!rj)
			continue;
		rj->job->interrupted = 1;
		if (rj->step)
			step_job_cancel(rj->step);
		else if (hard)
			proc_kill(&rj->proc);
		else
			proc_stop(&rj->proc);
	}
}

static void signal_cb(uv_signal_t *h, int signum)
{
	struct runner *r = h->data;
	r->signals_seen++;
	if (!r->signal)
		r->signal = signum;
	/* A second signal means "now": no grace period. */
	run_stop(r, r->signals_seen > 1);
}

static void broken_pipe(void)
{
	struct runner *r = the_runner;
	if (!r || r->signal)
		return;
	r->signal = SIGPIPE;
	run_stop(r, false);
}

static void tick_cb(uv_timer_t *t)
{
	(void)t;
	events_emit_simple(EV_TICK, NULL);
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

static void close_cb(uv_handle_t *h)
{
	(void)h;
}

/* Each running job holds up to 5 fds (two pipes, a pidfd, two spill
 * files in group mode) and weft needs a few of its own: lower -j rather
 * than fail jobs half-way for want of an fd. */
static unsigned fit_jobs(unsigned jobs)
{
	struct rlimit rl;
	if (getrlimit(RLIMIT_NOFILE, &rl) < 0 || rl.rlim_cur == RLIM_INFINITY)
		return jobs;
	long room = ((long)rl.rlim_cur - 24) / 5;
	unsigned fit = room < 1 ? 1 : (unsigned)room;
	if (jobs <= fit)
		return jobs;
	char *msg = xasprintf("weft: warning: running at most %u job%s at once, not %u: only %lu files may be open "
			      "(ulimit -n)\n",
			      fit, fit == 1 ? "" : "s", jobs, (unsigned long)rl.rlim_cur);
	term_write(2, msg, strlen(msg));
	free(msg);
	return fit;
}

void run_jobs(struct jobsrc *src, const struct run_opts *opts, struct run_result *res)
{
	struct runner r;
	struct run_opts fitted = *opts;
	const struct run_opts *o = &fitted;
	fitted.jobs = fit_jobs(opts->jobs);
	memset(&r, 0, sizeof r);
	memset(res, 0, sizeof *res);
	r.o = o;
	r.src = src;
	r.res = res;
	r.slots = xcalloc(o->jobs, sizeof *r.slots);
	src->kick = kick;
	src->runner = &r;
	the_runner = &r;
	r.loop = uv_default_loop();
	term_on_broken_pipe(broken_pipe);

	for (size_t i = 0; i < 3; i++) {
		uv_signal_init(r.loop, &r.sig[i]);
		r.sig[i].data = &r;
		uv_signal_start(&r.sig[i], signal_cb, stop_signals[i]);
		uv_unref((uv_handle_t *)&r.sig[i]);
	}
	uv_timer_init(r.loop, &r.tick);
	if (term.status) {
		uv_timer_start(&r.tick, tick_cb, 0, 100);
		uv_unref((uv_handle_t *)&r.tick);
	}

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

	start_ready(&r);
	uv_run(r.loop, UV_RUN_DEFAULT);
	if (r.lag_file)
		lag_report(&r);
	uv_close((uv_handle_t *)&r.lag, close_cb);
	free(r.lags);

	/* finish() closes the source's own handles; the uv_run below ends them. */
	src->finish(src);
	struct event end = {.type = EV_END, .signal = r.signal};
	events_emit(&end);

	if (r.pool)
		pool_close(r.pool, NULL);
	proc_shutdown();
	for (size_t i = 0; i < 3; i++)
		uv_close((uv_handle_t *)&r.sig[i], close_cb);
	uv_close((uv_handle_t *)&r.tick, close_cb);
	uv_run(r.loop, UV_RUN_DEFAULT);
	term_on_broken_pipe(NULL);
	the_runner = NULL;
	src->runner = NULL;
	src->kick = NULL;
	res->signal = r.signal;
	free(r.slots);
	hashtab_free(r.paths);
	for (size_t i = 0; i < r.npath_keys; i++)
		free(r.path_keys[i]);
	free(r.path_keys);
}
