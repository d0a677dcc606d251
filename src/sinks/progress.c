/* The sink that draws --bar and --eta for a fan-out: done/total, a bar, and the time left. */
#include "sinks.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../duration.h"
#include "../events.h"
#include "../term.h"
#include "../util.h"

struct progress {
	struct sink sink;
	unsigned long long total, done;
	bool bar, eta;
	uint64_t start_ns;
};

static void render(char *out, size_t size, unsigned long long done, unsigned long long total, bool bar,
		     bool eta, uint64_t elapsed_ms, int width)
{
	unsigned pct = total ? (unsigned)(done * 100 / total) : 100;
	char tail[128], left[32];
	size_t n = 0;
	snprintf(tail, sizeof tail, "%3u%% %llu/%llu", pct, done, total);
	if (eta) {
		if (done && done < total) {
			duration_clock(elapsed_ms * (total - done) / done / 1000, left, sizeof left);
		} else if (done >= total) {
			snprintf(left, sizeof left, "0:00");
		} else {
			snprintf(left, sizeof left, "?");
		}
		size_t l = strlen(tail);
		snprintf(tail + l, sizeof tail - l, " ETA %s", left);
	}
	out[0] = '\0';
	if (bar) {
		int room = width - 1 - (int)strlen(tail) - 3;
		if (room > 50)
			room = 50;
		if (room >= 5 && (size_t)room + 3 < size) {
			int fill = total ? (int)(done * (unsigned long long)room / total) : room;
			out[n++] = '[';
			for (int i = 0; i < room; i++)
				out[n++] = i < fill ? '#' : '.';
			out[n++] = ']';
			out[n++] = ' ';
			out[n] = '\0';
		}
	}
	snprintf(out + n, size - n, "%s", tail);
}

static void draw(struct progress *p)
{
	char line[256];
	render(line, sizeof line, p->done, p->total, p->bar, p->eta, (now_ns() - p->start_ns) / 1000000,
			term_width());
	term_status(line);
}

static void on_event(struct sink *sink, const struct event *ev)
{
	struct progress *p = (struct progress *)sink;
	switch (ev->type) {
	case EV_RUN_START:
		p->start_ns = ev->at_ns;
		break;
	case EV_FINISHED:
		/* A job weft stopped (Ctrl-C) is not done: --resume runs it
		 * again, and the job log, like GNU parallel's, leaves it out. */
		if (!ev->job || !ev->job->interrupted)
			p->done++;
		break;
	case EV_TICK:
		if (term.status)
			draw(p);
		break;
	case EV_RUN_END: {
		/* The last state stays: on a terminal as the bar's last drawing,
		 * elsewhere as one plain line. */
		char line[256];
		render(line, sizeof line, p->done, p->total, p->bar, p->eta,
				(now_ns() - p->start_ns) / 1000000, term.status ? term_width() : 80);
		if (term.status) {
			term_status(line);
			term_status_keep();
		} else if (!term.quiet) {
			size_t n = strlen(line);
			line[n] = '\n';
			term_write(2, line, n + 1);
		}
		break;
	}
	default:
		break;
	}
}

static void release(struct sink *s)
{
	free(s);
}

struct sink *progress_sink_new(unsigned long long total, bool bar, bool eta)
{
	struct progress *p = xcalloc(1, sizeof *p);
	p->sink.on_event = on_event;
	p->sink.release = release;
	p->total = total;
	p->bar = bar;
	p->eta = eta;
	p->start_ns = now_ns();
	return &p->sink;
}
