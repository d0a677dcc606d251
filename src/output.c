/* The sink that prints jobs' output: prefixed lines, whole groups, or raw bytes. */
#include "output.h"

#include <stdlib.h>
#include <string.h>

#include "events.h"
#include "spool.h"
#include "term.h"
#include "util.h"

/* A line longer than this is printed in pieces, so memory stays bounded. */
#define LINE_MAX_HELD (64 * 1024)

struct job_out {
	struct buf partial[2]; /* line mode: the unfinished last line of each stream */
	struct spool held[2];  /* group mode: everything, until the job ends */
	int spool_error;
};

struct output_sink {
	struct sink sink;
	enum output_mode mode;
	size_t width;
	struct buf line;       /* scratch for building prefixed lines */
};

static const char *const colors[] = {"36", "32", "33", "34", "35", "96", "92", "93", "94", "95"};

static void add_prefix(struct output_sink *o, struct buf *b, const struct job *j)
{
	size_t len = strlen(j->name);
	size_t pad = len < o->width ? o->width - len : 0;
	if (term.color)
		buf_addf(b, "\033[%sm%s\033[0m%*s | ", colors[j->seq % (sizeof colors / sizeof *colors)], j->name,
			 (int)pad, "");
	else
		buf_addf(b, "%s%*s | ", j->name, (int)pad, "");
}

static struct job_out *state(struct job *j)
{
	if (!j->sink_state[0]) {
		struct job_out *s = xcalloc(1, sizeof *s);
		for (int i = 0; i < 2; i++) {
			buf_init(&s->partial[i]);
			spool_init(&s->held[i]);
		}
		j->sink_state[0] = s;
	}
	return j->sink_state[0];
}

static void line_output(struct output_sink *o, struct job *j, int stream, const char *p, size_t n)
{
	struct job_out *s = state(j);
	struct buf *part = &s->partial[stream - 1];
	struct buf *out = &o->line;
	buf_reset(out);
	while (n) {
		const char *nl = memchr(p, '\n', n);
		size_t take = nl ? (size_t)(nl - p) + 1 : n;
		if (!nl) {
			buf_add(part, p, take);
			if (part->len >= LINE_MAX_HELD) {
				add_prefix(o, out, j);
				buf_add(out, part->p, part->len);
				buf_add(out, "\n", 1);
				buf_reset(part);
			}
		} else {
			add_prefix(o, out, j);
			if (part->len) {
				buf_add(out, part->p, part->len);
				buf_reset(part);
			}
			buf_add(out, p, take);
		}
		p += take;
		n -= take;
	}
	if (out->len)
		term_write(stream, out->p, out->len);
}

static void line_flush(struct output_sink *o, struct job *j)
{
	struct job_out *s = j->sink_state[0];
	if (!s)
		return;
	for (int i = 0; i < 2; i++) {
		if (!s->partial[i].len)
			continue;
		buf_reset(&o->line);
		add_prefix(o, &o->line, j);
		buf_add(&o->line, s->partial[i].p, s->partial[i].len);
		buf_add(&o->line, "\n", 1);
		term_write(i + 1, o->line.p, o->line.len);
	}
}

static void job_out_free(struct job *j)
{
	struct job_out *s = j->sink_state[0];
	if (!s)
		return;
	for (int i = 0; i < 2; i++) {
		buf_release(&s->partial[i]);
		spool_release(&s->held[i]);
	}
	free(s);
	j->sink_state[0] = NULL;
}

static void on_event(struct sink *sink, const struct event *ev)
{
	struct output_sink *o = (struct output_sink *)sink;
	struct job *j = ev->job;
	switch (ev->type) {
	case EV_OUTPUT:
		if (o->mode == OUTPUT_RAW) {
			term_write(ev->stream, ev->data, ev->len);
		} else if (o->mode == OUTPUT_LINE) {
			line_output(o, j, ev->stream, ev->data, ev->len);
		} else {
			struct job_out *s = state(j);
			int r = spool_add(&s->held[ev->stream - 1], ev->data, ev->len);
			if (r < 0 && !s->spool_error)
				s->spool_error = r;
		}
		break;
	case EV_FINISHED:
		if (o->mode == OUTPUT_LINE) {
			line_flush(o, j);
		} else if (o->mode == OUTPUT_GROUP && j->sink_state[0]) {
			struct job_out *s = j->sink_state[0];
			spool_drain(&s->held[0], 1, term_write);
			spool_drain(&s->held[1], 2, term_write);
			if (s->spool_error) {
				char *msg = xasprintf("weft: output of task '%s' was cut short: cannot hold it: %s\n",
						      j->name, strerror(-s->spool_error));
				term_write(2, msg, strlen(msg));
				free(msg);
			}
		}
		job_out_free(j);
		break;
	case EV_END:
		buf_release(&o->line);
		break;
	default:
		break;
	}
}

struct sink *output_sink_new(enum output_mode mode, size_t prefix_width)
{
	struct output_sink *o = xcalloc(1, sizeof *o);
	o->sink.on_event = on_event;
	o->mode = mode;
	o->width = prefix_width;
	buf_init(&o->line);
	return &o->sink;
}
