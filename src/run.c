/* The run: starts ready tasks as child processes on the libuv loop, feeds their events to the sinks, handles signals. */
#include "run.h"

#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <uv.h>

#include "env.h"
#include "events.h"
#include "graph.h"
#include "proc.h"
#include "sched.h"
#include "term.h"
#include "util.h"

struct running {
	struct proc proc;
	struct job *job;
	struct runner *r;
	struct env env;   /* when the task has env.* of its own */
	bool own_env;
};

struct runner {
	uv_loop_t loop;
	const struct run_opts *o;
	struct graph *g;
	struct sched sched;
	struct job *jobs;         /* by task index */
	struct running **active;  /* by task index while running */
	unsigned nactive;
	unsigned seq;
	int signal;               /* first signal that stopped the run, 0: none */
	int signals_seen;
	uv_signal_t sig[3];
	uv_timer_t tick;
	bool busy;                /* inside start_ready */
};

static struct runner *the_runner;
static const int stop_signals[3] = {SIGINT, SIGTERM, SIGHUP};

static void start_ready(struct runner *r);

static void job_finished(struct runner *r, struct job *j)
{
	j->end_ns = now_ns();
	events_emit_simple(EV_FINISHED, j);
	sched_done(&r->sched, j->task, j->result == JOB_OK);
}

static void proc_output(struct proc *p, int stream, const char *data, size_t len)
{
	struct running *rj = p->data;
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
	r->active[j->task->index] = NULL;
	r->nactive--;
	job_finished(r, j);
	start_ready(r);
}

static void proc_closed(struct proc *p)
{
	struct running *rj = p->data;
	if (rj->own_env)
		env_release(&rj->env);
	free(rj);
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
	size_t n = 0;
	char **argv = xcalloc(strlen(cmd) / 2 + 2, sizeof *argv);
	const char *s = cmd;
	while (*s) {
		s += strspn(s, " ");
		size_t k = strcspn(s, " ");
		if (!k)
			break;
		argv[n++] = xstrndup(s, k);
		s += k;
	}
	for (const char *const *b = builtins; argv[0] && *b; b++)
		if (strcmp(argv[0], *b) == 0)
			n = 0;
	if (!n) {
		for (size_t i = 0; argv[i]; i++)
			free(argv[i]);
		free(argv);
		return NULL;
	}
	return argv;
}

static char **build_argv(struct runner *r, struct task *t)
{
	size_t n = 0;
	while (r->o->shell[n])
		n++;
	char **argv = xcalloc(n + 6, sizeof *argv);
	size_t k = 0;
	for (size_t i = 0; i < n; i++)
		argv[k++] = r->o->shell[i];
	/* A multi-line script stops at its first failing line, as make's recipes do. */
	if (t->run_lines > 1)
		argv[k++] = "-e";
	argv[k++] = "-c";
	argv[k++] = t->run;
	argv[k++] = t->name; /* $0, so the shell's messages name the task */
	argv[k] = NULL;
	return argv;
}

/* Starts t; returns false when it finished at once (no command, or it
 * could not be spawned). */
static bool start_job(struct runner *r, struct task *t)
{
	struct job *j = &r->jobs[t->index];
	j->seq = ++r->seq;
	j->start_ns = now_ns();
	events_emit_simple(EV_STARTED, j);
	if (!t->run || !*t->run) {
		j->result = JOB_OK;
		job_finished(r, j);
		return false;
	}
	struct running *rj = xcalloc(1, sizeof *rj);
	rj->job = j;
	rj->r = r;
	char *const *envp = r->o->base_env->v;
	if (t->nenv) {
		env_init(&rj->env, r->o->base_env->v);
		for (size_t i = 0; i < t->nenv; i++)
			env_set(&rj->env, t->env[i].name, t->env[i].value);
		for (size_t i = 0; i < r->o->noverrides; i++)
			env_set(&rj->env, r->o->overrides[i].name, r->o->overrides[i].value);
		rj->own_env = true;
		envp = rj->env.v;
	}
	struct proc_spawn_opts so = {
		.envp = envp,
		.dir = t->dir,
		.timeout_ms = t->timeout_ms,
		.grace_ms = r->o->grace_ms,
	};
	int err = -ENOENT;
	char **argv = r->o->direct && !t->nenv && t->run_lines == 1 ? direct_argv(t->run) : NULL;
	if (argv) {
		so.argv = argv;
		so.search_path = true;
		err = proc_spawn(&rj->proc, &r->loop, &so, &ops, rj);
		for (size_t i = 0; argv[i]; i++)
			free(argv[i]);
		free(argv);
	}
	/* Not found or not runnable directly: the shell says why, as usual. */
	if (err == -ENOENT || err == -EACCES || err == -ENOEXEC) {
		argv = build_argv(r, t);
		so.argv = argv;
		so.search_path = false;
		err = proc_spawn(&rj->proc, &r->loop, &so, &ops, rj);
		free(argv);
	}
	if (err < 0) {
		if (rj->own_env)
			env_release(&rj->env);
		free(rj);
		j->result = JOB_SPAWN_ERROR;
		j->spawn_error = err;
		job_finished(r, j);
		return false;
	}
	r->active[t->index] = rj;
	r->nactive++;
	return true;
}

static void start_ready(struct runner *r)
{
	/* Tasks that end at once re-enter through job_finished; one loop here
	 * picks up whatever they made ready, without recursion. */
	if (r->busy)
		return;
	r->busy = true;
	while (r->nactive < r->o->jobs) {
		struct task *t = sched_next(&r->sched);
		if (!t)
			break;
		start_job(r, t);
	}
	r->busy = false;
}

static void stop_all(struct runner *r, bool hard)
{
	sched_stop(&r->sched);
	for (size_t i = 0; i < r->g->ntasks; i++) {
		struct running *rj = r->active[i];
		if (!rj)
			continue;
		rj->job->interrupted = 1;
		if (hard)
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
	stop_all(r, r->signals_seen > 1);
}

static void broken_pipe(void)
{
	struct runner *r = the_runner;
	if (!r || r->signal)
		return;
	r->signal = SIGPIPE;
	stop_all(r, false);
}

static void tick_cb(uv_timer_t *t)
{
	(void)t;
	events_emit_simple(EV_TICK, NULL);
}

static void close_cb(uv_handle_t *h)
{
	(void)h;
}

int run_tasks(struct graph *g, const struct run_opts *o)
{
	struct runner r;
	memset(&r, 0, sizeof r);
	r.o = o;
	r.g = g;
	the_runner = &r;
	uv_loop_init(&r.loop);
	sched_init(&r.sched, g, o->keep_going);
	r.jobs = xcalloc(g->ntasks, sizeof *r.jobs);
	r.active = xcalloc(g->ntasks, sizeof *r.active);
	term_on_broken_pipe(broken_pipe);

	for (size_t i = 0; i < 3; i++) {
		uv_signal_init(&r.loop, &r.sig[i]);
		r.sig[i].data = &r;
		uv_signal_start(&r.sig[i], signal_cb, stop_signals[i]);
		uv_unref((uv_handle_t *)&r.sig[i]);
	}
	uv_timer_init(&r.loop, &r.tick);
	if (term.status) {
		uv_timer_start(&r.tick, tick_cb, 0, 100);
		uv_unref((uv_handle_t *)&r.tick);
	}

	for (size_t i = 0; i < g->ntasks; i++) {
		struct task *t = g->tasks[i];
		if (!t->selected)
			continue;
		r.jobs[i].task = t;
		r.jobs[i].name = t->name;
		r.jobs[i].timeout_ms = t->timeout_ms;
		events_emit_simple(EV_QUEUED, &r.jobs[i]);
	}
	start_ready(&r);
	uv_run(&r.loop, UV_RUN_DEFAULT);

	for (size_t i = 0; i < g->ntasks; i++)
		if (g->tasks[i]->selected && !r.jobs[i].seq)
			events_emit_simple(EV_SKIPPED, &r.jobs[i]);
	events_emit_simple(EV_END, NULL);

	for (size_t i = 0; i < 3; i++)
		uv_close((uv_handle_t *)&r.sig[i], close_cb);
	uv_close((uv_handle_t *)&r.tick, close_cb);
	uv_run(&r.loop, UV_RUN_DEFAULT);
	uv_loop_close(&r.loop);
	term_on_broken_pipe(NULL);
	the_runner = NULL;

	int status = r.signal ? -r.signal : r.sched.failed ? 1 : 0;
	sched_release(&r.sched);
	free(r.jobs);
	free(r.active);
	return status;
}
