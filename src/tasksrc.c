/* The job source of a recipe run: one job per selected task (or one per item of a foreach), released as dependencies succeed. */
#include "tasksrc.h"

#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cancel.h"
#include "env.h"
#include "escape.h"
#include "events.h"
#include "glob.h"
#include "graph.h"
#include "pool.h"
#include "run.h"
#include "tmpl.h"
#include "uptodate.h"
#include "util.h"

/* A task's up-to-date check: what its callbacks need. */
struct tstate {
	struct tasksrc *ts;
	struct task *t;
	struct utd_unit *unit; /* NULL: none, or over */
};

/* One item of a foreach task. */
struct item_job {
	struct job job;
	struct fe *fe;
	char *cmd;
	char *name;
	size_t index;
	char **argv;   /* a step's words for this item */
	int argc;
	/* Items of a per_item task are checked one by one. */
	enum { ITEM_WAITING, ITEM_CHECKING, ITEM_READY, ITEM_STARTED } state;
	struct utd_unit *unit;  /* its check, until it is over */
	struct item_job *rnext; /* in fe's ready queue */
};

/* A foreach task's items and how far they have got. */
struct fe {
	struct pool_work work;/* listing a glob or lines: spec on the pool */
	struct tasksrc *ts;
	char *error;          /* why the items could not be listed; NULL: they were */
	char *empty;          /* no item at all: the patterns that matched nothing */
	struct task *t;
	struct strlist items;
	size_t next;          /* the next item to start (per_item: to check) */
	size_t running, finished;
	size_t checking;      /* per_item: checks on the pool */
	bool refilling;       /* per_item: inside check_items() */
	struct item_job *ready, **ready_tail; /* per_item: checked, found stale, not started */
	bool failed;
	struct fe *anext;     /* in the active list */
	bool listed;
	struct item_job *ijobs; /* one per item, made when they are listed */
	struct buf capture[2];/* cmd: the listing's output */
};

static char **task_envp(struct tasksrc *ts, struct task *t)
{
	if (!t->nenv)
		return NULL;
	struct env *e = &ts->envs[t->index];
	if (!e->v) {
		env_init(e, ts->base->v);
		for (size_t i = 0; i < t->nenv; i++)
			env_set(e, t->env[i].name, t->env[i].value);
		for (size_t i = 0; i < ts->noverrides; i++)
			env_set(e, ts->overrides[i].name, ts->overrides[i].value);
	}
	return e->v;
}

static void add_lines(struct strlist *l, const char *p, size_t n)
{
	while (n) {
		const char *nl = memchr(p, '\n', n);
		size_t len = nl ? (size_t)(nl - p) : n;
		char *s = xstrndup(p, len);
		strlist_add(l, s);
		free(s);
		p += len + (nl ? 1 : 0);
		n -= len + (nl ? 1 : 0);
	}
}

/* Lists the items of a glob, lines: or words spec. Runs on a worker
 * thread (a glob over a big tree takes a while): touches only fe, and
 * leaves a message in fe->error when it fails. */
static void list_items(struct fe *fe)
{
	const char *spec = fe->t->foreach;
	if (strncmp(spec, "lines:", 6) == 0) {
		/* Relative to the task's dir, where its commands run too. */
		char *path = fe->t->dir && spec[6] != '/' ? xasprintf("%s/%s", fe->t->dir, spec + 6) : xstrdup(spec + 6);
		int fd = open_read(path);
		free(path);
		if (fd < 0) {
			fe->error = xasprintf("cannot read the items of task '%s': %s", fe->t->name, strerror(-fd));
			return;
		}
		/* Bounded waits: a FIFO's writer may never come, and a signal
		 * must still stop the run. */
		struct buf b;
		buf_init(&b);
		char chunk[16384];
		for (;;) {
			if (cancel_raised()) {
				fe->error = xstrdup("cancelled");
				break;
			}
			ssize_t n = read_wait(fd, chunk, sizeof chunk, 100);
			if (n == -EAGAIN)
				continue;
			if (n < 0)
				fe->error = xasprintf("cannot read the items of task '%s': %s", fe->t->name, strerror((int)-n));
			if (n <= 0)
				break;
			buf_add(&b, chunk, (size_t)n);
		}
		close(fd);
		if (!fe->error)
			add_lines(&fe->items, b.p, b.len);
		buf_release(&b);
		return;
	}
	char **words = split_blanks(spec, NULL);
	int r = 0;
	for (size_t i = 0; words[i] && r == 0; i++) {
		if (!glob_is_pattern(words[i]))
			strlist_add(&fe->items, words[i]);
		else if ((r = glob_expand_in(fe->t->dir, words[i], &fe->items)) < 0)
			fe->error = xasprintf("cannot list the items of task '%s': %s", fe->t->name, strerror(-r));
	}
	if (!fe->error && !fe->items.n)
		fe->empty = xstrdup(spec);
	free_words(words);
}

/* t is over: what it did is recorded, and its dependents may go. */
/* A foreach task's items are known (or will never be): the run's total
 * stops waiting for them. */
static void listing_settled(struct tasksrc *ts, struct task *t)
{
	if (!t->foreach || ts->listed[t->index])
		return;
	ts->listed[t->index] = true;
	events_expect(ts->src.ev, --ts->unlisted);
}

static bool held_failed_item(const struct job *j)
{
	return j->src_data && ((const struct item_job *)j->src_data)->fe->failed;
}

static bool held_stopped(const struct job *j)
{
	return !j->src_data || held_failed_item(j);
}

static void task_done(struct tasksrc *ts, struct task *t, bool ok)
{
	listing_settled(ts, t);
	if (ts->utd) {
		struct tstate *st = &ts->tstates[t->index];
		uptodate_unit_free(st->unit);
		st->unit = NULL;
		uptodate_task_done(ts->utd, t, ok);
	}
	bool was = ts->sched.stopped;
	sched_done(&ts->sched, t, ok);
	/* Stopped by this failure: tasks a cluster's runner holds, and items
	 * of failed foreach tasks, would not have been handed out. */
	if (!was && ts->sched.stopped && ts->src.runner)
		runner_unqueue(ts->src.runner, held_stopped);
}

/* Reports j through the runner without running it: its outcome is set.
 * The caller kicks the runner unless the runner is calling the source. */
static void decide(struct tasksrc *ts, struct job *j)
{
	j->decided = true;
	j->start_ns = 0;
	grow(&ts->decided, &ts->decided_cap, ts->decided_head + ts->ndecided + 1, sizeof *ts->decided);
	ts->decided[ts->decided_head + ts->ndecided++] = j;
}

/* A task that failed before any command of it ran (its items could not
 * be listed, its sources not read): sinks see it finish as failed, and
 * its dependents never start. */
static void failed_early(struct tasksrc *ts, struct task *t, int code)
{
	listing_settled(ts, t);
	struct job *j = &ts->jobs[t->index];
	if (!j->id)
		events_queue(ts->src.ev, j);
	j->result = JOB_EXIT;
	j->exit_code = code;
	decide(ts, j);
}

static void queue_items(struct tasksrc *ts, struct fe *fe)
{
	fe->listed = true;
	fe->ts = ts;
	listing_settled(ts, fe->t);
	fe->ready_tail = &fe->ready;
	fe->ijobs = xcalloc(fe->items.n ? fe->items.n : 1, sizeof *fe->ijobs);
	for (size_t i = 0; i < fe->items.n; i++) {
		/* Each item is queued now, so progress counts it. */
		struct item_job *ij = &fe->ijobs[i];
		ij->fe = fe;
		ij->index = i;
		/* The name is shown (status line, prefixes, messages): an item
		 * from a file name shows its control bytes as \xHH. */
		struct buf name;
		buf_init(&name);
		buf_adds(&name, fe->t->name);
		buf_add(&name, "[", 1);
		escape_controls(&name, fe->items.v[i]);
		buf_add(&name, "]", 1);
		ij->name = buf_take(&name);
		ij->job.task = fe->t;
		ij->job.name = ij->name;
		ij->job.item = fe->items.v[i];
		ij->job.seq = i + 1;
		ij->job.rules = fe->t->rules;
		ij->job.src_data = ij;
		events_queue(ts->src.ev, &ij->job);
	}
	if (fe->items.n == 0) {
		task_done(ts, fe->t, true);
		return;
	}
	fe->anext = NULL;
	struct fe **p = &ts->active;
	while (*p)
		p = &(*p)->anext;
	*p = fe;
}

/* A step's words for one item: replacement strings in each word take the
 * item as it is (no shell, so no quoting); with none, the item is added
 * as a last word. */
static void step_words(struct item_job *ij, struct task *t, const struct tmpl_input *in)
{
	ij->argv = xcalloc((size_t)t->step_argc + 2, sizeof *ij->argv);
	bool used = false;
	for (int i = 0; i < t->step_argc; i++) {
		char *w[] = {t->step_argv[i]};
		struct tmpl *tw = tmpl_new(w, 1);
		struct buf b;
		buf_init(&b);
		used |= tmpl_has_inputs(tw);
		tmpl_expand_plain(tw, in, &b);
		tmpl_free(tw);
		ij->argv[ij->argc++] = buf_take(&b);
	}
	if (!used)
		ij->argv[ij->argc++] = xstrdup(in->args[0]);
	ij->job.step = t->step;
	ij->job.step_argv = ij->argv;
	ij->job.step_argc = ij->argc;
}

static void item_checked(void *ud, enum verdict v);

/* Whether a foreach task's items are checked one by one. */
static bool per_item(const struct tasksrc *ts, const struct task *t)
{
	return ts->utd && t->per_item;
}

/* Checks of one task's items on the pool at a time. One that takes its
 * lock (see uptodate.c) holds it until the loop has its verdict, and the
 * kernel walks every lock held on .weft/lock at each lock and unlock:
 * with all items queued at once, a run of a few hundred items spent a
 * third of its time there. */
#define CHECK_WINDOW 32

/* Starts the checks of a per_item task's items that are not checked yet,
 * CHECK_WINDOW at a time, on the pool; they come back through
 * item_checked(), which starts more. */
static void check_items(struct tasksrc *ts, struct fe *fe)
{
	struct pool *pool = runner_pool(ts->src.runner);
	/* A check without a pool comes back before uptodate_check() returns:
	 * the loop below goes on for it. */
	if (fe->refilling)
		return;
	fe->refilling = true;
	while (fe->next < fe->items.n && fe->checking < CHECK_WINDOW && !ts->sched.stopped &&
	       (!fe->failed || ts->keep_going)) {
		struct item_job *ij = &fe->ijobs[fe->next++];
		ij->state = ITEM_CHECKING;
		fe->checking++;
		struct utd_unit *x = uptodate_check(ts->utd, pool, fe->t, fe->items.v[ij->index], ij->index + 1,
						    ij->name, item_checked, ij);
		/* A check without a pool has come back already. */
		if (ij->state == ITEM_CHECKING || ij->state == ITEM_READY)
			ij->unit = x;
		else
			uptodate_unit_free(x);
	}
	fe->refilling = false;
}

/* The next item of fe that may start now, or NULL. */
static struct item_job *take_item(struct tasksrc *ts, struct fe *fe)
{
	if (fe->t->jobs && fe->running >= fe->t->jobs)
		return NULL;
	if (fe->failed && !ts->keep_going)
		return NULL;
	if (fe->t->console && ts->console_busy)
		return NULL;
	if (per_item(ts, fe->t)) {
		check_items(ts, fe);
		struct item_job *ij;
		while ((ij = fe->ready)) {
			if (!(fe->ready = ij->rnext))
				fe->ready_tail = &fe->ready;
			ij->rnext = NULL;
			if (uptodate_claim(ij->unit))
				return ij;
			/* Another run has it: checked again after. */
			ij->state = ITEM_CHECKING;
			fe->checking++;
		}
		return NULL;
	}
	return fe->next < fe->items.n ? &fe->ijobs[fe->next++] : NULL;
}

static struct job *next_item(struct tasksrc *ts, unsigned slot)
{
	for (struct fe *fe = ts->active; fe; fe = fe->anext) {
		struct item_job *ij = take_item(ts, fe);
		if (!ij)
			continue;
		struct task *t = fe->t;
		ij->state = ITEM_STARTED;
		const char *item = fe->items.v[ij->index];
		size_t len = strlen(item);
		struct tmpl_input in = {&item, &len, 1, ij->index + 1, slot};
		struct buf b;
		buf_init(&b);
		if (t->tmpl)
			tmpl_expand(t->tmpl, &in, &b);
		ij->cmd = buf_take(&b);
		if (t->step)
			step_words(ij, t, &in);
		ij->job.cmd = ij->cmd;
		ij->job.cmd_lines = t->run_lines;
		ij->job.dir = t->dir;
		ij->job.timeout_ms = t->timeout_ms;
		ij->job.envp = task_envp(ts, t);
		ij->job.console = t->console;
		ts->console_busy |= t->console;
		fe->running++;
		return &ij->job;
	}
	return NULL;
}

static void drop_active(struct tasksrc *ts, struct fe *fe)
{
	for (struct fe **p = &ts->active; *p; p = &(*p)->anext)
		if (*p == fe) {
			*p = fe->anext;
			return;
		}
}

static void list_work(struct pool_work *w)
{
	list_items((struct fe *)((char *)w - offsetof(struct fe, work)));
}

/* Back on the loop: the items are listed (or could not be). */
static void listed(struct pool_work *w)
{
	struct fe *fe = (struct fe *)((char *)w - offsetof(struct fe, work));
	struct tasksrc *ts = fe->ts;
	if (fe->error && cancel_raised()) {
		/* Cut short by a signal: the run is ending, nothing to say. */
		free(fe->error);
		fe->error = NULL;
		fe->failed = true;
		failed_early(ts, fe->t, 1);
	} else if (fe->error) {
		events_say(ts->src.ev, MSG_ERROR, NULL, "%s", fe->error);
		free(fe->error);
		fe->error = NULL;
		fe->failed = true;
		failed_early(ts, fe->t, 1);
	} else if (fe->empty && fe->t->foreach_empty == FOREACH_EMPTY_ERROR) {
		events_say(ts->src.ev, MSG_ERROR, NULL, "task '%s' has no item: '%s' matches nothing", fe->t->name,
			   fe->empty);
		fe->failed = true;
		failed_early(ts, fe->t, 1);
	} else {
		if (fe->empty && fe->t->foreach_empty == FOREACH_EMPTY_WARN)
			events_say(ts->src.ev, MSG_WARNING, NULL,
				   "task '%s' has no item: '%s' matches nothing (foreach-empty = ok says nothing)",
				   fe->t->name, fe->empty);
		queue_items(ts, fe);
	}
	free(fe->empty);
	fe->empty = NULL;
	if (ts->src.runner)
		runner_kick(ts->src.runner);
}

/* Whether listing the items of spec (a glob or words: not lines:) reads
 * one directory at most. */
static bool lists_one_dir(const char *spec)
{
	if (strncmp(spec, "lines:", 6) == 0)
		return false;
	char **words = split_blanks(spec, NULL);
	size_t dirs = 0;
	for (size_t i = 0; words[i]; i++)
		dirs += glob_is_pattern(words[i]) ? (glob_is_shallow(words[i]) ? 1 : 2) : 0;
	free_words(words);
	return dirs <= 1;
}

/* A task whose deps are done and that is to run: its job, or for a
 * foreach its listing job; NULL when it needs no job now (its items are
 * queued, or it failed or finished at once). */
static struct job *start_task(struct tasksrc *ts, struct task *t)
{
	if (!t->foreach) {
		struct job *tj = &ts->jobs[t->index];
		tj->envp = task_envp(ts, t);
		return tj;
	}
	struct fe *fe = xcalloc(1, sizeof *fe);
	fe->t = t;
	ts->fe[t->index] = fe;
	if (strncmp(t->foreach, "cmd:", 4) == 0) {
		/* The listing runs as a job of its own, so the loop never
		 * waits for it; its items come in done(). */
		struct job *lj = &ts->jobs[t->index];
		buf_init(&fe->capture[0]);
		buf_init(&fe->capture[1]);
		lj->capture = fe->capture;
		lj->cmd = t->foreach + 4;
		lj->cmd_lines = 1;
		lj->envp = task_envp(ts, t);
		return lj;
	}
	fe->ts = ts;
	fe->work.work = list_work;
	fe->work.after = listed;
	/* Items that one directory's listing at most gives are listed here:
	 * that costs less than a hand-over to a worker and back. */
	struct pool *pool = lists_one_dir(t->foreach) ? NULL : runner_pool(ts->src.runner);
	if (!pool || pool_submit(pool, &fe->work) < 0) {
		list_work(&fe->work);
		listed(&fe->work);
	}
	return NULL;
}

static void checked(void *ud, enum verdict v)
{
	struct tstate *st = ud;
	struct tasksrc *ts = st->ts;
	struct task *t = st->t;
	struct job *j = &ts->jobs[t->index];
	switch (v) {
	case VERDICT_FRESH:
		if (!j->id) {
			/* A foreach whose items are not listed: it counts as one. */
			events_queue(ts->src.ev, j);
		}
		listing_settled(ts, t);
		j->result = JOB_OK;
		j->up_to_date = true;
		decide(ts, j);
		break;
	case VERDICT_ERROR:
		failed_early(ts, t, 2);
		break;
	case VERDICT_RUN:
		grow(&ts->cleared, &ts->cleared_cap, ts->cleared_head + ts->ncleared + 1, sizeof *ts->cleared);
		ts->cleared[ts->cleared_head + ts->ncleared++] = t;
		break;
	}
	if (ts->src.runner)
		runner_kick(ts->src.runner);
}

/* A console job about to start: it takes the terminal, or waits for the
 * console job that has it. Returns whether j may start now. */
static bool console_take(struct tasksrc *ts, struct job *j)
{
	if (!j->console || j->decided)
		return true;
	if (!ts->console_busy) {
		ts->console_busy = true;
		return true;
	}
	grow(&ts->console_wait, &ts->console_wait_cap, ts->console_wait_head + ts->nconsole_wait + 1,
	     sizeof *ts->console_wait);
	ts->console_wait[ts->console_wait_head + ts->nconsole_wait++] = j;
	return false;
}

static struct job *next_job(struct jobsrc *s, unsigned slot);

/* Every job the runner starts comes from here: one that runs something
 * (a task's or an item's command, a foreach's listing command) may
 * change files that checks look at. */
static struct job *next(struct jobsrc *s, unsigned slot)
{
	struct tasksrc *ts = (struct tasksrc *)s;
	struct job *j = next_job(s, slot);
	if (j && !j->decided)
		uptodate_job_starts(ts->utd);
	return j;
}

static struct job *next_job(struct jobsrc *s, unsigned slot)
{
	struct tasksrc *ts = (struct tasksrc *)s;
	for (;;) {
		if (ts->ndecided) {
			ts->ndecided--;
			return ts->decided[ts->decided_head++];
		}
		if (ts->nconsole_wait && !ts->console_busy && !ts->sched.stopped) {
			ts->console_busy = true;
			ts->nconsole_wait--;
			return ts->console_wait[ts->console_wait_head++];
		}
		struct job *j = next_item(ts, slot);
		if (j)
			return j;
		/* An item checked here and now may have been decided. */
		if (ts->ndecided)
			continue;
		if (ts->sched.stopped)
			return NULL;
		struct task *t;
		if (ts->ncleared) {
			t = ts->cleared[ts->cleared_head++];
			ts->ncleared--;
			/* Another run has it: checked again after. */
			if (!uptodate_claim(ts->tstates[t->index].unit))
				continue;
		} else {
			t = sched_next(&ts->sched);
			if (!t)
				return NULL;
			if (ts->utd && !t->per_item) {
				/* Its fingerprint is taken on the pool (a task without
				 * sources only takes its lock); it comes back through
				 * checked(). */
				struct tstate *st = &ts->tstates[t->index];
				struct utd_unit *x = uptodate_check(ts->utd, runner_pool(ts->src.runner), t, NULL, 0,
								    t->name, checked, st);
				/* Kept for settle() when it is to run. */
				if (ts->jobs[t->index].decided)
					uptodate_unit_free(x);
				else
					st->unit = x;
				continue;
			}
		}
		j = start_task(ts, t);
		if (j && console_take(ts, j))
			return j;
	}
}

static void fe_settled(void *ud, const char *error)
{
	struct tstate *st = ud;
	(void)error; /* a task checked whole has no depfile */
	task_done(st->ts, st->t, true);
}

/* The foreach task is over if nothing of it runs or is checked and no
 * more of it may start. */
static void fe_maybe_done(struct tasksrc *ts, struct fe *fe)
{
	bool more = (fe->next < fe->items.n || fe->ready) && (!fe->failed || ts->keep_going);
	if (fe->running || fe->checking || more)
		return;
	drop_active(ts, fe);
	struct tstate *st = ts->utd ? &ts->tstates[fe->t->index] : NULL;
	/* A task checked whole is recorded once all its items succeeded. */
	if (!fe->failed && st &&
	    uptodate_settle(ts->utd, runner_pool(ts->src.runner), st->unit, fe_settled, st))
		return;
	task_done(ts, fe->t, !fe->failed);
}

/* An item handed out is over (or back): what it held for its run goes. */
static void item_release(struct item_job *ij)
{
	ij->fe->running--;
	free(ij->cmd);
	ij->cmd = NULL;
	for (int i = 0; i < ij->argc; i++)
		free(ij->argv[i]);
	free(ij->argv);
	ij->argv = NULL;
	ij->argc = 0;
	uptodate_unit_free(ij->unit);
	ij->unit = NULL;
}

static void item_done(struct tasksrc *ts, struct item_job *ij)
{
	struct fe *fe = ij->fe;
	fe->finished++;
	if (ij->job.result != JOB_OK)
		fe->failed = true;
	item_release(ij);
	fe_maybe_done(ts, fe);
	/* Its items that a cluster's runner holds would not have been handed
	 * out after this failure. */
	if (fe->failed && !ts->keep_going && ts->src.runner)
		runner_unqueue(ts->src.runner, held_failed_item);
}

/* Back on the loop: whether a per_item task's item runs. */
static void item_checked(void *ud, enum verdict v)
{
	struct item_job *ij = ud;
	struct fe *fe = ij->fe;
	struct tasksrc *ts = fe->ts;
	fe->checking--;
	/* The next checks, even while every slot runs a job. */
	check_items(ts, fe);
	switch (v) {
	case VERDICT_FRESH:
	case VERDICT_ERROR:
		ij->state = ITEM_STARTED;
		ij->job.result = v == VERDICT_FRESH ? JOB_OK : JOB_EXIT;
		ij->job.exit_code = v == VERDICT_FRESH ? 0 : 2;
		ij->job.up_to_date = v == VERDICT_FRESH;
		fe->running++;
		decide(ts, &ij->job);
		break;
	case VERDICT_RUN:
		ij->state = ITEM_READY;
		*fe->ready_tail = ij;
		fe->ready_tail = &ij->rnext;
		break;
	}
	if (ts->src.runner)
		runner_kick(ts->src.runner);
	/* Stopped, or failed, while it was checked: the task may be over. */
	if (v == VERDICT_RUN && fe->failed && !ts->keep_going)
		fe_maybe_done(ts, fe);
}

/* A job's success is settled: a depfile it left that cannot be read
 * makes it fail after all. */
static void settled(struct tasksrc *ts, struct job *j, const char *error)
{
	if (error) {
		events_say(ts->src.ev, MSG_ERROR, j, "task '%s': %s", j->name, error);
		j->result = JOB_EXIT;
		j->exit_code = 1;
	}
	runner_settled(ts->src.runner, j);
}

static void item_settled(void *ud, const char *error)
{
	struct item_job *ij = ud;
	settled(ij->fe->ts, &ij->job, error);
}

static void task_settled(void *ud, const char *error)
{
	struct tstate *st = ud;
	settled(st->ts, &st->ts->jobs[st->t->index], error);
}

/* A job that succeeded and was checked: what it left is recorded, on the
 * pool, before it counts as finished. A foreach task checked whole is
 * recorded once all its items are over (fe_maybe_done). */
static bool settle(struct jobsrc *s, struct job *j)
{
	struct tasksrc *ts = (struct tasksrc *)s;
	if (!ts->utd)
		return false;
	struct pool *pool = runner_pool(s->runner);
	if (j->src_data) {
		struct item_job *ij = j->src_data;
		return uptodate_settle(ts->utd, pool, ij->unit, item_settled, ij);
	}
	if (j->task->foreach)
		return false;
	struct tstate *st = &ts->tstates[j->task->index];
	return uptodate_settle(ts->utd, pool, st->unit, task_settled, st);
}

static void done(struct jobsrc *s, struct job *j)
{
	struct tasksrc *ts = (struct tasksrc *)s;
	if (j->console && !j->decided)
		ts->console_busy = false;
	if (j->src_data) {
		j->decided = false;
		item_done(ts, j->src_data);
		return;
	}
	struct task *t = j->task;
	if (j->decided) {
		j->decided = false;
		if (j->up_to_date)
			sched_done(&ts->sched, t, true);
		else
			task_done(ts, t, false);
		return;
	}
	if (j->capture) {
		struct fe *fe = ts->fe[t->index];
		j->capture = NULL;
		j->cmd = t->run;
		if (j->result != JOB_OK) {
			struct buf *err = &fe->capture[1];
			while (err->len && err->p[err->len - 1] == '\n')
				err->p[--err->len] = '\0';
			events_say(ts->src.ev, MSG_ERROR, NULL, "cannot list the items of task '%s': '%s' failed%s%s",
				   t->name, t->foreach + 4, err->len ? "\n" : "", err->len ? err->p : "");
			fe->failed = true;
			failed_early(ts, t, j->result == JOB_EXIT ? j->exit_code : 1);
		} else {
			j->start_ns = 0;
			add_lines(&fe->items, fe->capture[0].p ? fe->capture[0].p : "", fe->capture[0].len);
			queue_items(ts, fe);
		}
		buf_release(&fe->capture[0]);
		buf_release(&fe->capture[1]);
		return;
	}
	task_done(ts, t, j->result == JOB_OK);
}

/* After stop(): a job handed out that never started (a cluster's runner
 * held it). finish() reports it with the rest: start_ns is 0, an item is
 * not ITEM_STARTED. */
static void unstart(struct jobsrc *s, struct job *j)
{
	struct tasksrc *ts = (struct tasksrc *)s;
	if (j->src_data) {
		struct item_job *ij = j->src_data;
		struct fe *fe = ij->fe;
		ij->state = ITEM_READY;
		item_release(ij);
		/* Its task failed: it is over once nothing of it runs. */
		if (fe->failed && !ts->keep_going)
			fe_maybe_done(ts, fe);
		return;
	}
	if (ts->utd) {
		struct tstate *st = &ts->tstates[j->task->index];
		uptodate_unit_free(st->unit);
		st->unit = NULL;
	}
}

static void stop(struct jobsrc *s)
{
	struct tasksrc *ts = (struct tasksrc *)s;
	sched_stop(&ts->sched);
	ts->active = NULL;
	if (ts->utd)
		uptodate_stop(ts->utd);
}

static void finish(struct jobsrc *s)
{
	struct tasksrc *ts = (struct tasksrc *)s;
	const char *why = ts->sched.stopped ? "stopped" : "dependency failed";
	if (ts->unlisted)
		events_expect(s->ev, ts->unlisted = 0);
	for (size_t i = 0; i < ts->g->ntasks; i++) {
		struct task *t = ts->g->tasks[i];
		if (!t->selected)
			continue;
		struct fe *fe = ts->fe[i];
		if (fe && fe->listed) {
			/* Items that never started. */
			for (size_t k = 0; k < fe->items.n; k++)
				if (fe->ijobs[k].state != ITEM_STARTED)
					events_skip(s->ev, &fe->ijobs[k].job, why);
		} else if (!ts->jobs[i].start_ns) {
			events_skip(s->ev, &ts->jobs[i], why);
		}
	}
}

static void begin(struct jobsrc *s)
{
	struct tasksrc *ts = (struct tasksrc *)s;
	for (size_t i = 0; i < ts->g->ntasks; i++)
		if (ts->g->tasks[i]->selected && !ts->g->tasks[i]->foreach)
			events_queue(s->ev, &ts->jobs[i]);
		else if (ts->g->tasks[i]->selected)
			ts->unlisted++;
	if (ts->unlisted)
		events_expect(s->ev, ts->unlisted);
}

void tasksrc_init(struct tasksrc *ts, struct graph *g, bool keep_going, const struct env *base,
		  const struct kv *overrides, size_t noverrides, struct uptodate *utd)
{
	memset(ts, 0, sizeof *ts);
	ts->src.begin = begin;
	ts->src.next = next;
	ts->src.settle = settle;
	ts->src.done = done;
	ts->src.stop = stop;
	ts->src.finish = finish;
	ts->src.unstart = unstart;
	/* Jobs may wait on a cluster's runner before they start, unless one
	 * needs the terminal (one at a time) or its slot ({%}). */
	ts->src.ahead_ok = true;
	for (size_t i = 0; i < g->ntasks; i++)
		if (g->tasks[i]->console || (g->tasks[i]->tmpl && tmpl_uses_slot(g->tasks[i]->tmpl)))
			ts->src.ahead_ok = false;
	ts->g = g;
	ts->keep_going = keep_going;
	ts->base = base;
	ts->overrides = overrides;
	ts->noverrides = noverrides;
	ts->utd = utd;
	sched_init(&ts->sched, g, keep_going);
	ts->jobs = xcalloc(g->ntasks, sizeof *ts->jobs);
	ts->envs = xcalloc(g->ntasks, sizeof *ts->envs);
	ts->fe = xcalloc(g->ntasks, sizeof *ts->fe);
	ts->listed = xcalloc(g->ntasks ? g->ntasks : 1, sizeof *ts->listed);
	ts->tstates = xcalloc(g->ntasks, sizeof *ts->tstates);
	for (size_t i = 0; i < g->ntasks; i++) {
		struct task *t = g->tasks[i];
		ts->tstates[i].ts = ts;
		ts->tstates[i].t = t;
		struct job *j = &ts->jobs[i];
		j->task = t;
		j->name = t->name;
		j->cmd = t->run;
		j->cmd_lines = t->run_lines;
		j->dir = t->dir;
		j->timeout_ms = t->timeout_ms;
		j->rules = t->rules;
		/* A foreach task's own job lists its items, on no terminal. */
		j->console = t->console && !t->foreach;
		if (t->step && !t->foreach) {
			j->step = t->step;
			j->step_argv = t->step_argv;
			j->step_argc = t->step_argc;
		}
	}
}

void tasksrc_release(struct tasksrc *ts)
{
	sched_release(&ts->sched);
	for (size_t i = 0; i < ts->g->ntasks; i++) {
		if (ts->envs[i].v)
			env_release(&ts->envs[i]);
		struct fe *fe = ts->fe[i];
		uptodate_unit_free(ts->tstates[i].unit);
		if (fe) {
			for (size_t k = 0; fe->ijobs && k < fe->items.n; k++) {
				free(fe->ijobs[k].name);
				uptodate_unit_free(fe->ijobs[k].unit);
			}
			free(fe->ijobs);
			strlist_release(&fe->items);
			free(fe);
		}
	}
	free(ts->jobs);
	free(ts->envs);
	free(ts->fe);
	free(ts->listed);
	free(ts->tstates);
	free(ts->cleared);
	free(ts->console_wait);
	free(ts->decided);
}
