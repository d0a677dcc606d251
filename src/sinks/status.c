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
	size_t unlisted;       /* job sources that may still queue jobs: the total may grow */
	uint64_t start_ns;
	struct job **running;  /* in start order */
	size_t nrunning, cap;
};

/* The status line for `width` columns. Colour codes (red for failures)
 * take no column. oldest_ms: how long the first of `running` (the oldest)
 * has run. */
static void render(struct buf *out, size_t finished, size_t total, bool more, size_t failed, bool red,
		   const char *const *running, size_t nrunning, uint64_t oldest_ms, uint64_t elapsed_ms, int width)
{
	char head[96], fail[64] = "", clock[32], age[40] = "";
	duration_clock(elapsed_ms / 1000, clock, sizeof clock);
	/* A failure under -k shows at once, not only in the summary. */
	if (failed)
		snprintf(fail, sizeof fail, ", %zu failed", failed);
	snprintf(head, sizeof head, "[%zu/%zu%s", finished, total, more ? "+" : "");
	/* The oldest job's own time, once it is the one holding things up. */
	if (nrunning && oldest_ms >= 1000) {
		char t[32];
		duration_clock(oldest_ms / 1000, t, sizeof t);
		snprintf(age, sizeof age, " (%s)", t);
	}
	const char *mid = "] running: ";
	/* The clock stays at the right end; names fill what room is left. */
	int used = (int)(strlen(head) + strlen(fail) + strlen(mid));
	int room = width - 1 - used - 2 - (int)strlen(clock);
	struct buf names;
	buf_init(&names);
	buf_adds(&names, "");
	for (size_t i = 0; i < nrunning; i++) {
		size_t need = strlen(running[i]) + (i ? 2 : 0) + (i == 0 ? strlen(age) : 0);
		size_t rest = i + 1 < nrunning ? 5 : 0; /* room for ", ..." */
		if ((int)(names.len + need + rest) > room) {
			buf_adds(&names, i ? ", ..." : "...");
			break;
		}
		if (i)
			buf_adds(&names, ", ");
		buf_adds(&names, running[i]);
		if (i == 0)
			buf_adds(&names, age);
	}
	/* What shows: cut to the width, counting no colour code. */
	struct buf plain;
	buf_init(&plain);
	buf_addf(&plain, "%s%s%s%s  %s", head, fail, mid, names.p, clock);
	size_t cut = width > 1 && plain.len >= (size_t)width ? (size_t)width - 1 : plain.len;
	size_t at = strlen(head) + 2; /* after ", " */
	if (red && *fail && cut > at) {
		size_t nfail = strlen(fail) - 2 < cut - at ? strlen(fail) - 2 : cut - at;
		buf_add(out, plain.p, at);
		buf_adds(out, "\033[31m");
		buf_add(out, plain.p + at, nfail);
		buf_adds(out, "\033[0m");
		buf_add(out, plain.p + at + nfail, cut - at - nfail);
	} else {
		buf_add(out, plain.p, cut);
	}
	buf_release(&plain);
	buf_release(&names);
}

static void redraw(struct status_sink *st)
{
	const char **names = xmalloc((st->nrunning + 1) * sizeof *names);
	for (size_t i = 0; i < st->nrunning; i++)
		names[i] = st->running[i]->name;
	uint64_t now = now_ns();
	uint64_t oldest = st->nrunning && now > st->running[0]->start_ns ? (now - st->running[0]->start_ns) / 1000000 : 0;
	struct buf line;
	buf_init(&line);
	render(&line, st->finished, st->total, st->unlisted > 0, st->failed, term.color_err, names, st->nrunning,
	       oldest, (now - st->start_ns) / 1000000, term_width());
	free(names);
	term_status(line.p ? line.p : "");
	buf_release(&line);
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
	case EV_EXPECT:
		st->unlisted = ev->len;
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
