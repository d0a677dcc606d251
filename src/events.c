/* A run's event stream: every job's life (queued, started, output, finished, skipped) and the run's messages, fanned out to the run's sinks. */
#include "events.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "duration.h"
#include "exitcode.h"
#include "outrules.h"
#include "util.h"

char *job_outcome(const struct job *j)
{
	char d[64];
	const char *abbrev;
	switch (j->result) {
	case JOB_OK:
		return xstrdup(j->up_to_date ? "up to date" : "ok");
	case JOB_EXIT:
		return xasprintf("exit %d", j->exit_code);
	case JOB_SIGNAL:
		abbrev = sigabbrev_np(j->term_signal);
		if (j->interrupted)
			return xasprintf("stopped by weft (SIG%s)", abbrev ? abbrev : "?");
		return abbrev ? xasprintf("killed by SIG%s", abbrev) : xasprintf("killed by signal %d", j->term_signal);
	case JOB_TIMEOUT:
		duration_format(j->timeout_ms, d, sizeof d);
		return xasprintf("timed out after %s", d);
	case JOB_SPAWN_ERROR:
		return xasprintf("cannot start: %s", strerror(-j->spawn_error));
	case JOB_RULE:
		return xstrdup(j->check ? j->check->why : "an output rule failed it");
	default:
		return xstrdup("not finished");
	}
}

void events_init(struct events *ev, char *const *argv)
{
	memset(ev, 0, sizeof *ev);
	ev->run.version = WEFT_VERSION;
	ev->run.argv = argv;
	ev->start_ns = now_ns();
}

void events_release(struct events *ev)
{
	for (struct sink *s = ev->first, *next; s; s = next) {
		next = s->next;
		if (s->release)
			s->release(s);
	}
	ev->first = ev->last = NULL;
	ev->nsinks = 0;
}

void events_add(struct events *ev, struct sink *s)
{
	if (ev->nsinks == EVENTS_MAX_SINKS)
		abort();
	s->slot = ev->nsinks++;
	s->next = NULL;
	if (ev->last)
		ev->last->next = s;
	else
		ev->first = s;
	ev->last = s;
}

static void count(struct run_info *run, const struct event *e)
{
	const struct job *j = e->job;
	switch (e->type) {
	case EV_QUEUED:
		run->queued++;
		break;
	case EV_FINISHED:
		if (j->result == JOB_OK) {
			run->ok++;
			run->up_to_date += j->up_to_date;
		} else if (j->interrupted && j->result == JOB_SIGNAL) {
			run->stopped++;
		} else {
			run->failed++;
		}
		break;
	case EV_SKIPPED:
		run->skipped++;
		break;
	default:
		break;
	}
}

void events_emit(struct events *ev, struct event *e)
{
	if (!e->at_ns)
		e->at_ns = now_ns();
	count(&ev->run, e);
	for (struct sink *s = ev->first; s; s = s->next)
		s->on_event(s, e);
}

void events_job(struct events *ev, enum event_type type, struct job *j)
{
	events_job_at(ev, type, j, 0);
}

void events_job_at(struct events *ev, enum event_type type, struct job *j, uint64_t at_ns)
{
	struct event e = {.type = type, .job = j, .at_ns = at_ns};
	events_emit(ev, &e);
}

void events_queue(struct events *ev, struct job *j)
{
	j->id = ++ev->next_id;
	events_job(ev, EV_QUEUED, j);
}

void events_skip(struct events *ev, struct job *j, const char *why)
{
	if (!j->id)
		events_queue(ev, j);
	struct event e = {.type = EV_SKIPPED, .job = j, .data = why, .len = strlen(why)};
	events_emit(ev, &e);
}

void events_vsay(struct events *ev, enum msg_level level, const struct job *j, const char *fmt, va_list ap)
{
	char *text;
	if (vasprintf(&text, fmt, ap) < 0)
		abort();
	struct event e = {.type = EV_MESSAGE, .job = (struct job *)j, .level = level, .data = text, .len = strlen(text)};
	events_emit(ev, &e);
	free(text);
}

void events_say(struct events *ev, enum msg_level level, const struct job *j, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	events_vsay(ev, level, j, fmt, ap);
	va_end(ap);
}

void events_begin(struct events *ev, unsigned jobs)
{
	ev->run.jobs = jobs;
	ev->start_ns = now_ns();
	struct event e = {.type = EV_RUN_START, .run = &ev->run, .at_ns = ev->start_ns};
	events_emit(ev, &e);
}

void events_end(struct events *ev, int exit_status, int signal)
{
	ev->run.exit_status = exit_status;
	ev->run.signal = signal;
	struct event e = {.type = EV_RUN_END, .run = &ev->run};
	events_emit(ev, &e);
}

void events_request_halt(struct events *ev)
{
	ev->halted = true;
	if (ev->halt)
		ev->halt(ev->halt_ud);
}

void events_expect(struct events *ev, size_t pending)
{
	struct event e = {.type = EV_EXPECT, .len = pending};
	events_emit(ev, &e);
}
