/* The executor that runs every job on one of N `weft --runner` processes (--cluster), sending jobs over a socketpair each and turning the runners' events back into output and exits. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "../events.h"
#include "../executor.h"
#include "../jobserver.h"
#include "../link.h"
#include "../proc.h"
#include "../util.h"
#include "../wire.h"

/* A runner that dies this many times in a row, without finishing a job
 * in between, is given up. */
#define MAX_DEATHS 5

struct cluster;
struct member;

/* A job of the run, waiting for a runner or on one. */
struct cjob {
	unsigned long long wid;  /* its id on the link (hidden jobs have no job id) */
	struct job *job;
	const struct executor_cb *cb;
	void *ud;
	struct member *m;       /* NULL: waiting */
	unsigned requeues;
	bool started;           /* its runner said so (with ahead; else at once) */
	bool said;              /* started() was called: never twice, even if it runs again */
	bool taking;            /* asked back from its runner, to run on an idle one */
	bool back;              /* stopped before it started: back to the run when handed back */
	struct cjob *next, *prev;
};

/* One runner process and its link; respawned when it dies. */
struct rproc {
	struct proc proc;
	struct cluster *c;
	struct member *m;       /* NULL once the member has let go of it */
};

struct member {
	struct cluster *c;
	unsigned index;         /* from 1 */
	unsigned slots, busy;   /* busy: jobs sent to it, started or not */
	unsigned cap;           /* most jobs it holds: slots, more with ahead */
	unsigned offset;        /* its slots are offset+1..offset+slots of -j */
	unsigned nstarted;      /* of busy, those it said started */
	struct link *link;      /* NULL: none now */
	struct rproc *rp;       /* NULL: none now */
	bool up;                /* its link and process are there, and it is not dying */
	unsigned deaths;        /* in a row */
	bool given_up;
	uv_timer_t restart;
	struct cjob *jobs;      /* on it now */
};

struct cluster {
	struct executor x;
	struct executor_env env;
	char *self;             /* this program, to start runners of */
	unsigned n;
	struct member *members;
	struct cjob *wait_head, *wait_tail;
	unsigned long long next_wid;
	bool closing;
	bool ahead;             /* runners hold jobs ahead of a free slot */
	unsigned taking;        /* jobs asked back, not yet handed back */
	int open;               /* links, processes and timers not yet closed */
};

static void cjob_push(struct cjob **head, struct cjob **tail, struct cjob *cj, bool front)
{
	cj->prev = cj->next = NULL;
	if (!*head) {
		*head = cj;
		if (tail)
			*tail = cj;
	} else if (front || !tail) {
		cj->next = *head;
		(*head)->prev = cj;
		*head = cj;
	} else {
		cj->prev = *tail;
		(*tail)->next = cj;
		*tail = cj;
	}
}

static void cjob_unlink(struct cjob **head, struct cjob **tail, struct cjob *cj)
{
	if (cj->prev)
		cj->prev->next = cj->next;
	else
		*head = cj->next;
	if (cj->next)
		cj->next->prev = cj->prev;
	else if (tail)
		*tail = cj->prev;
	cj->next = cj->prev = NULL;
}

static void maybe_free(struct cluster *c)
{
	if (!c->closing || c->open)
		return;
	proc_shutdown();
	free(c->members);
	free(c->self);
	free(c);
}

static void closed_one(struct cluster *c)
{
	c->open--;
	maybe_free(c);
}

static void set_busy(struct member *m, int delta)
{
	bool was = m->busy > 0;
	m->busy = (unsigned)((int)m->busy + delta);
	/* The loop waits for a runner only while it runs jobs of the run. */
	if (m->link && was != (m->busy > 0))
		link_set_ref(m->link, m->busy > 0);
}

/* Back to the run, never started. */
static void unstarted(struct cjob *cj)
{
	const struct executor_cb *cb = cj->cb;
	void *ud = cj->ud;
	free(cj);
	cb->unstarted(ud);
}

static void job_over(struct cjob *cj)
{
	const struct executor_cb *cb = cj->cb;
	void *ud = cj->ud;
	free(cj);
	cb->exited(ud);
}

/* Hands waiting jobs to the runners with free slots, the least busy first.
 * They are sent at once: the job source may block the loop next (reading
 * a fifo, say), and a job must not wait for that. */
static void take_back(struct cluster *c);

static void dispatch(struct cluster *c)
{
	while (c->wait_head) {
		struct member *best = NULL;
		for (unsigned i = 0; i < c->n; i++) {
			struct member *m = &c->members[i];
			if (m->up && m->busy < m->cap && (!best || m->busy * best->slots < best->busy * m->slots))
				best = m;
		}
		if (!best)
			break;
		struct cjob *cj = c->wait_head;
		cjob_unlink(&c->wait_head, &c->wait_tail, cj);
		cj->m = best;
		cj->job->runner = best->index;
		cjob_push(&best->jobs, NULL, cj, true);
		set_busy(best, +1);
		if (cj->started)
			best->nstarted++;
		struct job sent = *cj->job;
		sent.id = cj->wid;
		wire_encode_job(&sent, link_out(best->link));
	}
	if (c->ahead)
		take_back(c);
	/* A runner with a free slot waits for its job; one that holds jobs
	 * takes more at the end of this turn of the loop, in one write. */
	for (unsigned i = 0; i < c->n; i++) {
		struct member *m = &c->members[i];
		if (!m->link || !link_out(m->link)->len)
			continue;
		if (m->busy - m->nstarted <= m->slots)
			link_flush(m->link);
		else
			link_flush_soon(m->link);
	}
}

/* A job a runner holds that has not started: the first not asked back
 * yet, of a runner that holds more than its slots (over) or any (!over). */
static struct cjob *unstarted_job(struct cluster *c, bool over, const struct member *not)
{
	for (unsigned i = 0; i < c->n; i++) {
		struct member *m = &c->members[i];
		if (!m->up || m == not || (over && m->busy <= m->slots))
			continue;
		for (struct cjob *cj = m->jobs; cj; cj = cj->next)
			if (!cj->started && !cj->taking)
				return cj;
	}
	return NULL;
}

static void ask_back(struct cjob *cj)
{
	cj->taking = true;
	cj->m->c->taking++;
	wire_encode_stop(cj->wid, "unqueue", link_out(cj->m->link));
}

/* A runner that has a free slot and nothing waiting while another holds
 * jobs that have not started: those are asked back (one per free slot),
 * so that no job waits behind a long one while a runner idles (it may be
 * the one that long job waits for). And a job that waits in its runner's
 * free slot for a jobserver token while the first runner, which has the
 * run's own slot, runs nothing, is asked back too: without, it would wait
 * for tokens that other jobs (or other programs, below make) hold, may be
 * for ever, where weft alone would run it in its own slot. */
static void take_back(struct cluster *c)
{
	if (c->wait_head)
		return;
	struct member *first = &c->members[0];
	if (c->env.js && first->up && first->busy == 0 && c->taking == 0) {
		struct cjob *cj = unstarted_job(c, false, first);
		if (cj)
			ask_back(cj);
	}
	unsigned idle = 0;
	for (unsigned i = 0; i < c->n; i++) {
		struct member *m = &c->members[i];
		if (m->up && m->busy < m->slots)
			idle += m->slots - m->busy;
	}
	while (idle > c->taking) {
		struct cjob *pick = unstarted_job(c, true, NULL);
		if (!pick)
			return;
		ask_back(pick);
	}
}

static void taken(struct cjob *cj)
{
	if (cj->taking) {
		cj->taking = false;
		cj->m->c->taking--;
	}
}

/* started() for the run, once. */
static void say_started(struct cjob *cj, unsigned slot)
{
	if (!cj->said && cj->cb->started) {
		cj->said = true;
		cj->cb->started(cj->ud, slot);
	}
}

static bool all_given_up(const struct cluster *c)
{
	for (unsigned i = 0; i < c->n; i++)
		if (!c->members[i].given_up)
			return false;
	return true;
}

/* No runner is left: every waiting job fails rather than wait forever. */
static void fail_waiting(struct cluster *c)
{
	if (!all_given_up(c))
		return;
	while (c->wait_head) {
		struct cjob *cj = c->wait_head;
		cjob_unlink(&c->wait_head, &c->wait_tail, cj);
		cj->job->result = JOB_SPAWN_ERROR;
		cj->job->spawn_error = -EHOSTDOWN;
		job_over(cj);
	}
}

static void start_member(struct member *m);

static void restart_cb(uv_timer_t *t)
{
	struct member *m = t->data;
	if (!m->c->closing)
		start_member(m);
}

static void link_closed(struct link *l)
{
	struct cluster *c = l->data ? ((struct member *)l->data)->c : NULL;
	link_release(l);
	free(l);
	if (c)
		closed_one(c);
}

/* The runner has gone (or must go): its jobs run again elsewhere or fail,
 * and a new runner takes its place after a pause. */
static void member_down(struct member *m, const char *why)
{
	struct cluster *c = m->c;
	if (!m->up)
		return;
	m->up = false;
	if (m->link) {
		link_close(m->link);
		m->link = NULL;
	}
	if (m->rp) {
		proc_kill(&m->rp->proc);
		m->rp->m = NULL;
		m->rp = NULL;
	}
	if (c->closing)
		return;
	m->deaths++;
	events_say(c->env.ev, MSG_ERROR, NULL, "runner %u %s", m->index, why);
	/* A runner takes a token for each job it starts but its first (the
	 * first runner's: that one has the run's own slot): those it said it
	 * started went with it, and go back to the pool. */
	if (c->env.js)
		for (unsigned k = m->index == 1 ? 1 : 0; k < m->nstarted; k++)
			jobserver_give(c->env.js, '+');
	while (m->jobs) {
		struct cjob *cj = m->jobs;
		taken(cj);
		cjob_unlink(&m->jobs, NULL, cj);
		set_busy(m, -1);
		cj->m = NULL;
		struct job *j = cj->job;
		if (!cj->started) {
			/* It never started there: it waits for another runner,
			 * not counted as run again (or goes back to the run). */
			if (cj->back)
				unstarted(cj);
			else
				cjob_push(&c->wait_head, &c->wait_tail, cj, true);
			continue;
		}
		cj->started = !c->ahead;
		m->nstarted--;
		/* Whatever the job started goes with its runner. */
		if (j->pid > 0)
			kill(-j->pid, SIGKILL);
		j->pid = 0;
		if (cj->requeues < c->env.requeue && !j->interrupted) {
			cj->requeues++;
			events_say(c->env.ev, MSG_WARNING, j, "'%s' runs again: its runner died", j->name);
			cjob_push(&c->wait_head, &c->wait_tail, cj, true);
		} else {
			if (!j->interrupted)
				events_say(c->env.ev, MSG_ERROR, j, "'%s' is lost: its runner died", j->name);
			j->result = JOB_SIGNAL;
			j->term_signal = SIGKILL;
			job_over(cj);
		}
	}
	if (m->deaths >= MAX_DEATHS) {
		m->given_up = true;
		events_say(c->env.ev, MSG_ERROR, NULL, "runner %u keeps dying: giving it up", m->index);
		fail_waiting(c);
	} else {
		uint64_t pause = 50ull << (m->deaths - 1);
		uv_timer_start(&m->restart, restart_cb, pause > 2000 ? 2000 : pause, 0);
	}
	dispatch(c);
}

/* After a failure the runner starts nothing it holds until told to. */
static void go_on(struct member *m, unsigned long long id)
{
	if (m->up) {
		wire_encode_stop(id, "go", link_out(m->link));
		link_flush_soon(m->link);
	}
}

static struct cjob *find_job(struct member *m, unsigned long long id)
{
	for (struct cjob *cj = m->jobs; cj; cj = cj->next)
		if (cj->wid == id)
			return cj;
	return NULL;
}

static void line_cb(struct link *l, const char *line, size_t len)
{
	struct member *m = l->data;
	struct cluster *c = m->c;
	struct wire_event w;
	if (wire_decode(line, len, &w) < 0) {
		member_down(m, "sent a line that is not an event: dropping it");
		return;
	}
	struct cjob *cj = w.job.id ? find_job(m, w.job.id) : NULL;
	switch (w.ev.type) {
	case EV_RUN_START:
		break;
	case EV_STARTED:
		if (!cj)
			break;
		cj->job->pid = w.job.pid;
		if (c->ahead && !cj->started) {
			cj->started = true;
			m->nstarted++;
			taken(cj);
			say_started(cj, w.job.slot <= m->slots ? m->offset + w.job.slot : 0);
		}
		break;
	case EV_OUTPUT:
		if (cj)
			cj->cb->output(cj->ud, w.ev.stream, w.ev.data, w.ev.len);
		break;
	case EV_FINISHED: {
		if (!cj) {
			if (c->ahead && w.job.result != JOB_OK)
				go_on(m, w.job.id);
			break;
		}
		struct job *j = cj->job;
		j->result = w.job.result;
		j->exit_code = w.job.exit_code;
		j->term_signal = w.job.term_signal;
		j->spawn_error = w.job.spawn_error;
		j->pid = 0;
		taken(cj);
		cjob_unlink(&m->jobs, NULL, cj);
		set_busy(m, -1);
		if (cj->started)
			m->nstarted--;
		m->deaths = 0;
		unsigned long long wid = cj->wid;
		job_over(cj);
		/* After a failure the runner starts nothing it holds until the
		 * run has taken it in (it may halt): go on. */
		if (c->ahead && w.job.result != JOB_OK)
			go_on(m, wid);
		dispatch(c);
		break;
	}
	case EV_SKIPPED: {
		/* Handed back before it started. */
		if (!cj || cj->started)
			break;
		taken(cj);
		cjob_unlink(&m->jobs, NULL, cj);
		set_busy(m, -1);
		cj->m = NULL;
		if (cj->back)
			unstarted(cj);
		else
			cjob_push(&c->wait_head, &c->wait_tail, cj, true);
		dispatch(c);
		break;
	}
	case EV_MESSAGE:
		events_say(c->env.ev, w.ev.level, cj ? cj->job : NULL, "%.*s", (int)w.ev.len, w.ev.data);
		break;
	default:
		wire_event_release(&w);
		member_down(m, "sent an event a runner does not send: dropping it");
		return;
	}
	wire_event_release(&w);
}

static void eof_cb(struct link *l, int err)
{
	struct member *m = l->data;
	member_down(m, err == UV_E2BIG    ? "sent a line too long: dropping it"
		       : err == UV_EPROTO ? "ended inside a line: dropping it"
					  : "has gone");
}

static void runner_output(struct proc *p, int stream, const char *data, size_t len)
{
	struct rproc *rp = p->data;
	(void)stream;
	/* A runner says nothing on its own stdout or stderr unless it is in
	 * trouble (a crash report, say): pass that on. */
	while (len && data[len - 1] == '\n')
		len--;
	if (rp->m && len)
		events_say(rp->m->c->env.ev, MSG_ERROR, NULL, "runner %u: %.*s", rp->m->index, (int)len, data);
}

static void runner_done(struct proc *p)
{
	struct rproc *rp = p->data;
	if (rp->m)
		member_down(rp->m, "died");
}

static void runner_closed(struct proc *p)
{
	struct rproc *rp = p->data;
	struct cluster *c = rp->c;
	if (rp->m)
		rp->m->rp = NULL;
	free(rp);
	closed_one(c);
}

static const struct proc_ops runner_ops = {runner_output, runner_done, runner_closed, NULL};

static void start_member(struct member *m)
{
	struct cluster *c = m->c;
	int sv[2];
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0) {
		m->up = true;
		member_down(m, "cannot be started: no socket");
		return;
	}
	char index[16], slots[16], grace[32];
	snprintf(index, sizeof index, "%u", m->index);
	snprintf(slots, sizeof slots, "%u", m->slots);
	snprintf(grace, sizeof grace, "%llu", (unsigned long long)c->env.grace_ms);
	size_t nshell = 0;
	while (c->env.shell[nshell])
		nshell++;
	char **argv = xcalloc(nshell + 8, sizeof *argv);
	size_t k = 0;
	argv[k++] = c->self;
	argv[k++] = "--runner";
	argv[k++] = index;
	argv[k++] = slots;
	argv[k++] = grace;
	argv[k++] = c->env.direct ? "1" : "0";
	argv[k++] = c->ahead ? "1" : "0";
	for (size_t i = 0; i < nshell; i++)
		argv[k++] = c->env.shell[i];
	struct proc_spawn_opts so = {.argv = argv, .envp = c->env.envp, .grace_ms = c->env.grace_ms, .fd3 = sv[1]};
	struct rproc *rp = xcalloc(1, sizeof *rp);
	rp->c = c;
	rp->m = m;
	int err = proc_spawn(&rp->proc, c->env.loop, &so, &runner_ops, rp);
	free(argv);
	close(sv[1]);
	struct link *l = xcalloc(1, sizeof *l);
	if (err < 0 || link_open(l, c->env.loop, sv[0], line_cb, eof_cb, m) < 0) {
		close(sv[0]);
		free(l);
		if (err >= 0) {
			rp->m = NULL; /* it goes when it reads EOF; its close frees rp */
			c->open++;
			proc_set_ref(&rp->proc, false);
		} else {
			free(rp);
		}
		m->up = true;
		member_down(m, "cannot be started");
		return;
	}
	l->on_closed = link_closed;
	proc_set_ref(&rp->proc, false);
	link_set_ref(l, m->busy > 0);
	c->open += 2;
	m->rp = rp;
	m->link = l;
	m->up = true;
	dispatch(c);
}

static bool runs(const struct executor *x, const struct job *j)
{
	(void)x;
	(void)j;
	return true;
}

static int start(struct executor *x, struct job *j, const struct executor_cb *cb, void *ud, void **handle)
{
	struct cluster *c = (struct cluster *)x;
	/* No runner is left to run it: it fails to start, here and now (not
	 * through the callbacks, which would free it under the caller). */
	if (all_given_up(c))
		return -EHOSTDOWN;
	struct cjob *cj = xcalloc(1, sizeof *cj);
	cj->wid = ++c->next_wid;
	cj->job = j;
	cj->cb = cb;
	cj->ud = ud;
	cj->started = !c->ahead;
	cjob_push(&c->wait_head, &c->wait_tail, cj, false);
	*handle = cj;
	dispatch(c);
	return 0;
}

static void stop(struct executor *x, void *handle, enum executor_stop how)
{
	struct cluster *c = (struct cluster *)x;
	struct cjob *cj = handle;
	if (c->ahead && !cj->m) {
		/* Not on a runner yet: back to the run, never started. */
		cjob_unlink(&c->wait_head, &c->wait_tail, cj);
		unstarted(cj);
		return;
	}
	if (!cj->started)
		cj->back = true;
	if (how == STOP_UNQUEUE) {
		/* A runner hands it back (skipped) unless it has started it. */
		if (!cj->started && !cj->taking && cj->m->up) {
			/* At once: the runner may be about to start it. */
			wire_encode_stop(cj->wid, "unqueue", link_out(cj->m->link));
			link_flush(cj->m->link);
		}
		return;
	}
	if (!cj->m) {
		/* Not on a runner yet: it never starts. */
		cjob_unlink(&c->wait_head, &c->wait_tail, cj);
		cj->job->result = how == STOP_TIMEOUT ? JOB_TIMEOUT : JOB_SIGNAL;
		cj->job->term_signal = how == STOP_TIMEOUT ? 0 : how == STOP_HARD ? SIGKILL : SIGTERM;
		job_over(cj);
		return;
	}
	wire_encode_stop(cj->wid, how == STOP_HARD ? "hard" : how == STOP_TIMEOUT ? "timeout" : "graceful",
			 link_out(cj->m->link));
	link_flush_soon(cj->m->link);
}

static void timer_closed(uv_handle_t *h)
{
	closed_one(h->data);
}

static void cluster_free(struct executor *x)
{
	struct cluster *c = (struct cluster *)x;
	c->closing = true;
	for (unsigned i = 0; i < c->n; i++) {
		struct member *m = &c->members[i];
		m->up = false;
		/* EOF on its link ends a runner; the loop waits for it to exit. */
		if (m->link) {
			link_close(m->link);
			m->link = NULL;
		}
		if (m->rp) {
			/* It runs no job now: EOF ends it, and SIGTERM (SIGKILL
			 * after the grace period) one that does not listen. */
			proc_set_ref(&m->rp->proc, true);
			proc_stop(&m->rp->proc);
			m->rp->m = NULL;
			m->rp = NULL;
		}
		uv_timer_stop(&m->restart);
		m->restart.data = c;
		uv_close((uv_handle_t *)&m->restart, timer_closed);
	}
	maybe_free(c);
}

struct executor *executor_cluster_new(const struct executor_env *env)
{
	struct cluster *c = xcalloc(1, sizeof *c);
	c->x.runs = runs;
	c->x.start = start;
	c->x.stop = stop;
	c->x.free = cluster_free;
	c->env = *env;
	c->ahead = env->ahead;
	/* WEFT_RUNNER: another program that speaks the runner's side (a
	 * wrapper that starts weft elsewhere, say). */
	const char *prog = getenv("WEFT_RUNNER");
	c->self = prog && *prog ? xstrdup(prog) : realpath("/proc/self/exe", NULL);
	if (!c->self)
		c->self = xstrdup("/proc/self/exe");
	c->n = env->runners < env->slots ? env->runners : env->slots;
	if (!c->n)
		c->n = 1;
	c->members = xcalloc(c->n, sizeof *c->members);
	for (unsigned i = 0; i < c->n; i++) {
		struct member *m = &c->members[i];
		m->c = c;
		m->index = i + 1;
		/* -j stays the run's limit: split across the runners. */
		m->slots = env->slots / c->n + (i < env->slots % c->n);
		m->offset = i ? c->members[i - 1].offset + c->members[i - 1].slots : 0;
		m->cap = c->ahead ? m->slots * EXECUTOR_AHEAD : m->slots;
		uv_timer_init(env->loop, &m->restart);
		m->restart.data = m;
		c->open++;
	}
	for (unsigned i = 0; i < c->n; i++)
		start_member(&c->members[i]);
	return &c->x;
}
