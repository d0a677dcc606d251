/* The sink that draws the status line: [finished/total] running: a, b  0:12. */
#include "sinks.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../duration.h"
#include "../events.h"
#include "../term.h"
#include "../util.h"

struct status_sink {
	struct sink sink;
	size_t total, finished, failed;
	uint64_t start_ns;
	struct job **running;  /* in start order */
	size_t nrunning, cap;
};

static void render(char *out, size_t size, size_t finished, size_t total, size_t failed,
		   const char *const *running, size_t nrunning, uint64_t elapsed_ms, int width)
{
	char head[96], clock[32];
	duration_clock(elapsed_ms / 1000, clock, sizeof clock);
	/* A failure under -k shows at once, not only in the summary. */
	if (failed)
		snprintf(head, sizeof head, "[%zu/%zu, %zu failed] running: ", finished, total, failed);
	else
		snprintf(head, sizeof head, "[%zu/%zu] running: ", finished, total);
	/* The clock stays at the right end; names fill what room is left. */
	int room = width - 1 - (int)strlen(head) - 2 - (int)strlen(clock);
	struct buf names;
	buf_init(&names);
	for (size_t i = 0; i < nrunning; i++) {
		size_t need = strlen(running[i]) + (i ? 2 : 0);
		size_t more = i + 1 < nrunning ? 5 : 0; /* room for ", ..." */
		if ((int)(names.len + need + more) > room) {
			buf_adds(&names, i ? ", ..." : "...");
			break;
		}
		if (i)
			buf_adds(&names, ", ");
		buf_adds(&names, running[i]);
	}
	snprintf(out, size, "%s%s  %s", head, names.p ? names.p : "", clock);
	if (width > 1 && strlen(out) >= (size_t)width)
		out[width - 1] = '\0';
	buf_release(&names);
}

static void redraw(struct status_sink *st)
{
	const char **names = xmalloc((st->nrunning + 1) * sizeof *names);
	for (size_t i = 0; i < st->nrunning; i++)
		names[i] = st->running[i]->name;
	char line[1024];
	render(line, sizeof line, st->finished, st->total, st->failed, names, st->nrunning,
		      (now_ns() - st->start_ns) / 1000000, term_width());
	free(names);
	term_status(line);
}

static void on_event(struct sink *sink, const struct event *ev)
{
	struct status_sink *st = (struct status_sink *)sink;
	switch (ev->type) {
	case EV_RUN_START:
		st->start_ns = ev->at_ns;
		break;
	case EV_QUEUED:
		st->total++;
		break;
	case EV_STARTED:
		grow(&st->running, &st->cap, st->nrunning + 1, sizeof *st->running);
		st->running[st->nrunning++] = ev->job;
		break;
	case EV_FINISHED:
		st->finished++;
		if (ev->job && !ev->job->interrupted && ev->job->result != JOB_OK)
			st->failed++;
		for (size_t i = 0; i < st->nrunning; i++)
			if (st->running[i] == ev->job) {
				memmove(&st->running[i], &st->running[i + 1],
					(st->nrunning - i - 1) * sizeof *st->running);
				st->nrunning--;
				break;
			}
		break;
	case EV_TICK:
		redraw(st);
		break;
	case EV_RUN_END:
		term_status(NULL);
		free(st->running);
		st->running = NULL;
		st->nrunning = 0;
		break;
	default:
		break;
	}
}

static void release(struct sink *s)
{
	struct status_sink *st = (struct status_sink *)s;
	free(st->running);
	free(st);
}

struct sink *status_sink_new(void)
{
	struct status_sink *st = xcalloc(1, sizeof *st);
	st->sink.on_event = on_event;
	st->sink.release = release;
	st->start_ns = now_ns();
	return &st->sink;
}
