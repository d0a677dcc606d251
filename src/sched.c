/* Which selected task may start next: ready queue, failure policy (stop or keep going). No I/O, no libuv. */
#include "sched.h"

#include <stdlib.h>

#include "graph.h"
#include "util.h"

static void push(struct sched *s, struct task *t)
{
	if (s->nready == s->cap) {
		size_t cap = s->cap ? s->cap * 2 : 64;
		struct task **ring = xmalloc(cap * sizeof *ring);
		for (size_t i = 0; i < s->nready; i++)
			ring[i] = s->ready[(s->head + i) % s->cap];
		free(s->ready);
		s->ready = ring;
		s->cap = cap;
		s->head = 0;
	}
	s->ready[(s->head + s->nready) % s->cap] = t;
	s->nready++;
	s->state[t->index] = TS_READY;
}

void sched_init(struct sched *s, struct graph *g, bool keep_going)
{
	s->g = g;
	s->state = xcalloc(g->ntasks, sizeof *s->state);
	s->pending = xcalloc(g->ntasks, sizeof *s->pending);
	s->ready = NULL;
	s->head = s->nready = s->cap = 0;
	s->keep_going = keep_going;
	s->stopped = false;
	s->total = s->running = s->ok = s->failed = 0;
	for (size_t i = 0; i < g->ntasks; i++) {
		struct task *t = g->tasks[i];
		if (!t->selected)
			continue;
		s->total++;
		for (size_t k = 0; k < t->ndeps; k++)
			if (t->deps[k])
				s->pending[i]++;
	}
	for (size_t i = 0; i < g->ntasks; i++)
		if (g->tasks[i]->selected && s->pending[i] == 0)
			push(s, g->tasks[i]);
}

void sched_release(struct sched *s)
{
	free(s->state);
	free(s->pending);
	free(s->ready);
	s->state = NULL;
	s->pending = NULL;
	s->ready = NULL;
}

struct task *sched_next(struct sched *s)
{
	if (s->stopped || s->nready == 0)
		return NULL;
	struct task *t = s->ready[s->head];
	s->head = (s->head + 1) % s->cap;
	s->nready--;
	s->state[t->index] = TS_RUNNING;
	s->running++;
	return t;
}

static void block(struct sched *s, struct task *t)
{
	for (size_t i = 0; i < t->nrdeps; i++) {
		struct task *u = t->rdeps[i];
		if (u->selected && s->state[u->index] == TS_WAITING) {
			s->state[u->index] = TS_BLOCKED;
			block(s, u);
		}
	}
}

void sched_done(struct sched *s, struct task *t, bool ok)
{
	if (s->state[t->index] != TS_RUNNING)
		abort();
	s->running--;
	if (!ok) {
		s->state[t->index] = TS_FAILED;
		s->failed++;
		block(s, t);
		if (!s->keep_going)
			sched_stop(s);
		return;
	}
	s->state[t->index] = TS_OK;
	s->ok++;
	for (size_t i = 0; i < t->nrdeps; i++) {
		struct task *u = t->rdeps[i];
		if (u->selected && --s->pending[u->index] == 0 && s->state[u->index] == TS_WAITING && !s->stopped)
			push(s, u);
	}
}

void sched_stop(struct sched *s)
{
	s->stopped = true;
}

bool sched_finished(const struct sched *s)
{
	return s->running == 0 && (s->stopped || s->nready == 0);
}

size_t sched_not_started(const struct sched *s)
{
	return s->total - s->ok - s->failed - s->running;
}
