/* A job's life as a stream of events (queued, started, output, finished), fanned out to every registered sink. */
#include "events.h"

static struct sink *first, *last;

void events_add_sink(struct sink *s)
{
	s->next = NULL;
	if (last)
		last->next = s;
	else
		first = s;
	last = s;
}

void events_emit(const struct event *ev)
{
	for (struct sink *s = first; s; s = s->next)
		s->on_event(s, ev);
}

void events_emit_simple(enum event_type type, struct job *job)
{
	struct event ev = {.type = type, .job = job};
	events_emit(&ev);
}
