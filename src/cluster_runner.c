/* weft --runner: one runner of a cluster, which runs the jobs its master sends on fd 3 and sends their events back. */
#include "cluster_runner.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <unistd.h>
#include <uv.h>

#include "events.h"
#include "jobserver.h"
#include "exitcode.h"
#include "jobsrc.h"
#include "link.h"
#include "proc.h"
#include "run.h"
#include "util.h"
#include "wire.h"

extern char **environ;

/* A job from the master: the decoded event owns it. */
struct rjob {
	struct wire_event w;
	struct rjob *next, *prev;
};

struct link_src {
	struct jobsrc src;
	struct sink sink;         /* sends the runner's events to the master */
	struct link link;
	unsigned index;           /* this runner's number, for its started events */
	struct rjob *head, *tail; /* received, not started */
	struct rjob *running;     /* started, not done */
	unsigned nqueued;         /* of head */
	unsigned slots;
	bool ahead;               /* the master sends jobs ahead of a free slot */
	bool paused;              /* ahead: a job failed; nothing starts until the master says go */
	uv_timer_t hold;          /* ahead: sends what waits to go out, at the latest */
	bool stopped;
	int bad;                  /* the master sent something that is not an event */
};

static void rjob_unlink(struct rjob **list, struct rjob *rj)
{
	if (rj->prev)
		rj->prev->next = rj->next;
	else
		*list = rj->next;
	if (rj->next)
		rj->next->prev = rj->prev;
	rj->next = rj->prev = NULL;
}

static struct job *next(struct jobsrc *s, unsigned slot)
{
	struct link_src *ls = (struct link_src *)s;
	(void)slot;
	struct rjob *rj = ls->head;
	if (!rj || ls->stopped || ls->paused)
		return NULL;
	ls->head = rj->next;
	if (ls->head)
		ls->head->prev = NULL;
	else
		ls->tail = NULL;
	ls->nqueued--;
	rj->next = ls->running;
	rj->prev = NULL;
	if (ls->running)
		ls->running->prev = rj;
	ls->running = rj;
	return &rj->w.job;
}

static void rjob_free(struct rjob *rj)
{
	wire_event_release(&rj->w);
	free(rj);
}

static void done(struct jobsrc *s, struct job *j)
{
	struct link_src *ls = (struct link_src *)s;
	struct rjob *rj = j->src_data;
	rjob_unlink(&ls->running, rj);
	rjob_free(rj);
}

static void stop(struct jobsrc *s)
{
	((struct link_src *)s)->stopped = true;
}

static void finish(struct jobsrc *s)
{
	struct link_src *ls = (struct link_src *)s;
	while (ls->head) {
		struct rjob *rj = ls->head;
		ls->head = rj->next;
		rjob_free(rj);
	}
	ls->tail = NULL;
}

static struct job *find_running(struct link_src *ls, unsigned long long id)
{
	for (struct rjob *rj = ls->running; rj; rj = rj->next)
		if (rj->w.job.id == id)
			return &rj->w.job;
	return NULL;
}

/* A job the master asks back (or stops) before it started: it goes back,
 * never started, as skipped. Returns whether it was waiting here. */
static bool unqueue(struct link_src *ls, unsigned long long id)
{
	struct rjob *rj = ls->head;
	while (rj && rj->w.job.id != id)
		rj = rj->next;
	if (!rj)
		return false;
	if (rj == ls->tail)
		ls->tail = rj->prev;
	rjob_unlink(&ls->head, rj);
	ls->nqueued--;
	struct event e = {.type = EV_SKIPPED, .job = &rj->w.job, .data = "", .len = 0};
	wire_encode(&e, 0, link_out(&ls->link));
	link_flush_soon(&ls->link);
	rjob_free(rj);
	return true;
}

/* One line from the master: a job to run, or a request to stop one. */
static void line_cb(struct link *l, const char *line, size_t len)
{
	struct link_src *ls = l->data;
	struct rjob *rj = xcalloc(1, sizeof *rj);
	if (wire_decode(line, len, &rj->w) < 0 || (rj->w.ev.type != EV_QUEUED && rj->w.ev.type != EV_STOP)) {
		free(rj);
		ls->bad = 1;
		link_close(l);
		if (ls->src.runner)
			runner_stop(ls->src.runner, true);
		return;
	}
	if (rj->w.ev.type == EV_STOP) {
		const char *how = rj->w.ev.data;
		if (strcmp(how, "go") == 0) {
			ls->paused = false;
			if (ls->src.runner)
				runner_kick(ls->src.runner);
			rjob_free(rj);
			return;
		}
		struct job *j = find_running(ls, rj->w.job.id);
		if (!j && unqueue(ls, rj->w.job.id)) {
			rjob_free(rj);
			return;
		}
		if (j && ls->src.runner && strcmp(how, "unqueue") != 0) {
			if (strcmp(how, "timeout") == 0)
				runner_timeout(ls->src.runner, j);
			else
				runner_stop_job(ls->src.runner, j, strcmp(how, "hard") == 0);
		}
		rjob_free(rj);
		return;
	}
	struct job *j = &rj->w.job;
	j->src_data = rj;
	j->runner = ls->index;
	if (ls->tail)
		ls->tail->next = rj;
	else
		ls->head = rj;
	rj->prev = ls->tail;
	ls->tail = rj;
	ls->nqueued++;
	if (ls->src.runner)
		runner_kick(ls->src.runner);
}

/* The master has gone (or closed the link): nobody is left to report to,
 * so every job stops at once. */
static void eof_cb(struct link *l, int err)
{
	struct link_src *ls = l->data;
	(void)err;
	ls->stopped = true;
	if (ls->src.runner)
		runner_stop(ls->src.runner, true);
}

static void hold_cb(uv_timer_t *t)
{
	struct link_src *ls = t->data;
	link_flush_soon(&ls->link);
}

/* Ahead, a started or a successful job's end waits to go out while this
 * runner holds jobs enough (the master then wakes once for several), but
 * not for long; anything else goes at once. */
static void send_soon(struct link_src *ls, const struct event *e)
{
	bool routine = e->type == EV_STARTED || (e->type == EV_FINISHED && e->job->result == JOB_OK);
	if (!ls->ahead || !routine || ls->nqueued <= 2 * ls->slots) {
		uv_timer_stop(&ls->hold);
		link_flush_soon(&ls->link);
	} else if (!uv_is_active((uv_handle_t *)&ls->hold)) {
		uv_timer_start(&ls->hold, hold_cb, 100, 0);
	}
}

static void on_event(struct sink *s, const struct event *e)
{
	struct link_src *ls = (struct link_src *)((char *)s - offsetof(struct link_src, sink));
	switch (e->type) {
	case EV_STARTED:
		if (ls->ahead) {
			if (e->job && e->job->id) {
				wire_encode(e, 0, link_out(&ls->link));
				send_soon(ls, e);
			}
			break;
		}
		/* It waits for the next line that goes out (the job's output or
		 * its end): a tiny job then costs the master one wake-up, not
		 * two. The master needs no pid to stop the job should this
		 * runner die: this runner's guard does that. */
		if (e->job && e->job->id)
			wire_encode(e, 0, link_out(&ls->link));
		break;
	case EV_OUTPUT:
	case EV_FINISHED:
	case EV_MESSAGE:
		if (e->job && !e->job->id)
			return;
		wire_encode(e, 0, link_out(&ls->link));
		/* After a failure, what this runner holds waits for the master:
		 * the run may halt on it. */
		if (ls->ahead && e->type == EV_FINISHED && e->job->result != JOB_OK)
			ls->paused = true;
		send_soon(ls, e);
		break;
	default:
		break;
	}
}

int cluster_runner_main(int argc, char **argv)
{
	/* weft --runner INDEX JOBS GRACE_MS DIRECT AHEAD SHELL... */
	if (argc < 7) {
		fprintf(stderr, "weft: --runner is for a cluster's master to start\n");
		return EXIT_USAGE;
	}
	/* The master's measurements are the master's alone. */
	unsetenv("WEFT_RUSAGE");
	unsetenv("WEFT_LOOP_LAG");
	/* If the master dies without closing the link, stop too. */
	prctl(PR_SET_PDEATHSIG, SIGTERM);
	if (getppid() == 1)
		return EXIT_FAILED;
	struct link_src ls;
	memset(&ls, 0, sizeof ls);
	ls.index = (unsigned)strtoul(argv[1], NULL, 10);
	unsigned jobs = (unsigned)strtoul(argv[2], NULL, 10);
	uint64_t grace = strtoull(argv[3], NULL, 10);
	ls.ahead = strcmp(argv[5], "1") == 0;
	struct run_opts o = {
		.jobs = jobs ? jobs : 1,
		.grace_ms = grace,
		.shell = &argv[6],
		.direct = strcmp(argv[4], "1") == 0,
		.no_implicit = ls.index != 1,
	};
	ls.slots = o.jobs;
	int err = proc_setup();
	if (err < 0)
		return EXIT_FAILED;
	struct jobserver *js = NULL;
	if (ls.ahead) {
		/* Jobs start here without asking the master: each takes its
		 * token here, from the run's jobserver (the first runner holds
		 * the run's own slot), and the jobs share it. */
		struct makeflags mf;
		makeflags_parse(getenv("MAKEFLAGS"), &mf);
		unsigned n = o.jobs;
		char *warning = NULL;
		if (mf.auth == MF_AUTH_FDS || mf.auth == MF_AUTH_FIFO)
			jobserver_setup(&mf, false, JS_STYLE_PIPE, &n, &js, &warning);
		free(warning);
		makeflags_release(&mf);
		o.js = js;
	} else {
		/* The master holds the tokens; the jobs here share its jobserver. */
		jobserver_pass_on();
	}
	o.envp = environ;
	uv_loop_t *loop = uv_default_loop();
	/* The link is this process's alone: no job inherits it. */
	if (fcntl(3, F_SETFD, FD_CLOEXEC) < 0 || link_open(&ls.link, loop, 3, line_cb, eof_cb, &ls) < 0) {
		fprintf(stderr, "weft: --runner needs its link on fd 3\n");
		return EXIT_USAGE;
	}
	link_set_blocking(&ls.link);
	uv_timer_init(loop, &ls.hold);
	ls.hold.data = &ls;
	uv_unref((uv_handle_t *)&ls.hold);
	ls.src.next = next;
	ls.src.done = done;
	ls.src.stop = stop;
	ls.src.finish = finish;
	ls.sink.on_event = on_event;

	char *words[] = {"weft", "--runner", NULL};
	struct events ev;
	events_init(&ev, words);
	events_add(&ev, &ls.sink);
	/* Hello: the master learns this runner is up. */
	events_begin(&ev, o.jobs);
	struct event hello = {.type = EV_RUN_START, .run = &ev.run};
	wire_encode(&hello, 0, link_out(&ls.link));
	link_flush_soon(&ls.link);

	struct run_result res;
	run_jobs(&ev, &ls.src, &o, &res);
	uv_close((uv_handle_t *)&ls.hold, NULL);
	link_close(&ls.link);
	uv_run(loop, UV_RUN_DEFAULT);
	link_release(&ls.link);
	ev.first = ev.last = NULL; /* the sink is part of ls */
	events_release(&ev);
	jobserver_free(js);
	return ls.bad ? EXIT_USAGE : res.signal ? EXIT_SIGNAL + res.signal : EXIT_OK;
}
