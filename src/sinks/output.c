/* The sink that prints jobs' output: prefixed lines, whole groups (optionally in input order), or raw bytes. */
#include "sinks.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../events.h"
#include "../graph.h"
#include "../spool.h"
#include "../term.h"
#include "../util.h"

/* An unfinished line longer than this waits in a spool (memory, then a
 * temporary file) rather than in memory alone: lines are never cut. */
#define LINE_MAX_HELD (64 * 1024)

/* The widest a NAME | prefix is padded to. */
#define PREFIX_MAX_WIDTH 24

struct job_out {
	struct buf partial[2]; /* the unfinished last line of each stream, */
	struct spool over[2];  /* after what of it passed LINE_MAX_HELD */
	struct spool held[2];  /* group mode: everything, until the job ends */
	int spool_error;
};

/* --keep-order: a finished job waiting for the jobs before it. Its output
 * sits in one shared spill file, so waiting jobs cost no fds and little memory. */
struct waiting {
	bool present;
	off_t off[2];
	size_t len[2];
};

struct output_sink {
	struct sink sink;
	struct output_opts o;
	struct buf line;        /* scratch for building prefixed lines */
	unsigned long long next;/* keep-order: the next order to print */
	struct waiting *ring;   /* keep-order: ring[(head + k) % cap] is order next + k */
	size_t head, cap;
	struct spool spill;     /* keep-order: the shared spill file */
};

static const char *const colors[] = {"36", "32", "33", "34", "35", "96", "92", "93", "94", "95"};

static void add_prefix(struct output_sink *o, struct buf *b, const struct job *j, int stream)
{
	if (o->o.prefix == PREFIX_TAB) {
		buf_adds(b, j->name);
		buf_add(b, "\t", 1);
	} else if (o->o.prefix == PREFIX_NAME) {
		size_t len = strlen(j->name);
		int pad = len < o->o.width ? (int)(o->o.width - len) : 0;
		if (stream == 1 ? term.color : term.color_err)
			buf_addf(b, "\033[%sm%s\033[0m%*s | ",
				 colors[(j->task ? j->task->index : j->seq) % (sizeof colors / sizeof *colors)], j->name,
				 pad, "");
		else
			buf_addf(b, "%s%*s | ", j->name, pad, "");
	}
}

static struct job_out *state(struct output_sink *o, struct job *j)
{
	if (!j->sink_state[o->sink.slot]) {
		struct job_out *s = xcalloc(1, sizeof *s);
		for (int i = 0; i < 2; i++) {
			buf_init(&s->partial[i]);
			spool_init_z(&s->over[i], o->o.compress);
			spool_init_z(&s->held[i], o->o.compress);
		}
		j->sink_state[o->sink.slot] = s;
	}
	return j->sink_state[o->sink.slot];
}

static void emit(struct output_sink *o, struct job *j, int stream, const char *p, size_t n)
{
	if (!n)
		return;
	if (o->o.mode == OUTPUT_GROUP) {
		struct job_out *s = state(o, j);
		int r = spool_add(&s->held[stream - 1], p, n);
		if (r < 0 && !s->spool_error)
			s->spool_error = r;
	} else {
		term_write(stream, p, n);
	}
}

static struct output_sink *draining;   /* where drain_emit sends, during put_line() */
static struct job *draining_job;

static int drain_emit(int fd, const char *p, size_t n)
{
	emit(draining, draining_job, fd, p, n);
	return 0;
}

/* Prints one whole line: the prefix, what waited of it (spooled, then in
 * memory), and tail[0..n) (its end, newline included). Nothing else is
 * printed in between, and the status line is not redrawn inside it. */
static void put_line(struct output_sink *o, struct job *j, int stream, const char *tail, size_t n)
{
	struct job_out *s = state(o, j);
	struct buf *out = &o->line;
	term_hold(true);
	add_prefix(o, out, j, stream);
	emit(o, j, stream, out->p, out->len);
	buf_reset(out);
	draining = o;
	draining_job = j;
	int r = spool_drain(&s->over[stream - 1], stream, drain_emit);
	draining = NULL;
	if (r < 0 && !s->spool_error)
		s->spool_error = r;
	struct buf *part = &s->partial[stream - 1];
	emit(o, j, stream, part->p, part->len);
	buf_reset(part);
	emit(o, j, stream, tail, n);
	term_hold(false);
}

/* Splits output into whole lines, each with the job's prefix. */
static void add_lines(struct output_sink *o, struct job *j, int stream, const char *p, size_t n)
{
	struct job_out *s = state(o, j);
	struct buf *part = &s->partial[stream - 1];
	struct spool *over = &s->over[stream - 1];
	struct buf *out = &o->line;
	buf_reset(out);
	while (n) {
		const char *nl = memchr(p, '\n', n);
		size_t take = nl ? (size_t)(nl - p) + 1 : n;
		if (!nl) {
			buf_add(part, p, take);
			if (part->len >= LINE_MAX_HELD) {
				int r = spool_add(over, part->p, part->len);
				if (r < 0 && !s->spool_error)
					s->spool_error = r;
				buf_reset(part);
			}
		} else if (over->total) {
			/* A long line ends: what came before it goes first. */
			emit(o, j, stream, out->p, out->len);
			buf_reset(out);
			put_line(o, j, stream, p, take);
		} else {
			add_prefix(o, out, j, stream);
			if (part->len) {
				buf_add(out, part->p, part->len);
				buf_reset(part);
			}
			buf_add(out, p, take);
		}
		p += take;
		n -= take;
	}
	emit(o, j, stream, out->p, out->len);
	buf_reset(out);
}

/* The unfinished last lines, printed with a newline added. */
static void flush_partial(struct output_sink *o, struct job *j)
{
	struct job_out *s = j->sink_state[o->sink.slot];
	if (!s)
		return;
	for (int i = 0; i < 2; i++) {
		if (!s->partial[i].len && !s->over[i].total)
			continue;
		buf_reset(&o->line);
		put_line(o, j, i + 1, "\n", 1);
	}
}

static void job_out_free(struct output_sink *o, struct job *j)
{
	struct job_out *s = j->sink_state[o->sink.slot];
	if (!s)
		return;
	for (int i = 0; i < 2; i++) {
		buf_release(&s->partial[i]);
		spool_release(&s->over[i]);
		spool_release(&s->held[i]);
	}
	free(s);
	j->sink_state[o->sink.slot] = NULL;
}

static void print_held(struct output_sink *o, struct job *j)
{
	struct job_out *s = j->sink_state[o->sink.slot];
	if (!s)
		return;
	spool_drain(&s->held[0], 1, term_write);
	spool_drain(&s->held[1], 2, term_write);
	if (s->spool_error) {
		term_note_lost(s->spool_error);
		char *msg = xasprintf("weft: output of '%s' was cut short: cannot hold it: %s\n", j->name,
				      strerror(-s->spool_error));
		term_write(2, msg, strlen(msg));
		free(msg);
	}
}

static struct output_sink *spilling; /* the sink spool_drain writes into, during park() */

static int park_write(int fd, const char *p, size_t n)
{
	(void)fd;
	return spool_add(&spilling->spill, p, n);
}

/* Keeps a finished job's output until the jobs before it are printed. */
static void park(struct output_sink *o, struct job *j)
{
	unsigned long long k = j->order - o->next;
	while (k >= o->cap) {
		size_t cap = o->cap ? o->cap * 2 : 64;
		struct waiting *ring = xcalloc(cap, sizeof *ring);
		for (size_t i = 0; i < o->cap; i++)
			ring[i] = o->ring[(o->head + i) % o->cap];
		free(o->ring);
		o->ring = ring;
		o->cap = cap;
		o->head = 0;
	}
	struct waiting *w = &o->ring[(o->head + k) % o->cap];
	struct job_out *s = j->sink_state[o->sink.slot];
	w->present = true;
	spilling = o;
	for (int i = 0; i < 2; i++) {
		w->off[i] = (off_t)o->spill.total;
		w->len[i] = s ? s->held[i].total : 0;
		if (s)
			spool_drain(&s->held[i], i + 1, park_write);
	}
	spilling = NULL;
}

/* Prints parked jobs whose turn has come. */
static void unpark(struct output_sink *o)
{
	while (o->cap && o->ring[o->head].present) {
		struct waiting *w = &o->ring[o->head];
		for (int i = 0; i < 2; i++)
			spool_copy_range(&o->spill, w->off[i], w->len[i], i + 1, term_write);
		memset(w, 0, sizeof *w);
		o->head = (o->head + 1) % o->cap;
		o->next++;
	}
}

static void finished(struct output_sink *o, struct job *j)
{
	if (o->o.mode == OUTPUT_RAW)
		return;
	if (o->o.prefix != PREFIX_NONE || o->o.mode == OUTPUT_LINE)
		flush_partial(o, j);
	if (o->o.mode != OUTPUT_GROUP)
		return;
	if (!o->o.keep_order) {
		print_held(o, j);
		return;
	}
	if (j->order != o->next) {
		park(o, j);
		return;
	}
	print_held(o, j);
	o->next++;
	if (o->cap) {
		memset(&o->ring[o->head], 0, sizeof o->ring[o->head]);
		o->head = (o->head + 1) % o->cap;
	}
	unpark(o);
}

static void on_event(struct sink *sink, const struct event *ev)
{
	struct output_sink *o = (struct output_sink *)sink;
	struct job *j = ev->job;
	switch (ev->type) {
	case EV_QUEUED:
		/* Prefixes are padded to the longest name queued so far (foreach
		 * items included, as they are listed), capped. */
		if (o->o.prefix == PREFIX_NAME && ev->job && ev->job->name) {
			size_t len = strlen(ev->job->name);
			if (len > o->o.width)
				o->o.width = len < PREFIX_MAX_WIDTH ? len : PREFIX_MAX_WIDTH;
		}
		break;
	case EV_STARTED:
		if (o->o.verbose && j && j->cmd && !j->capture) {
			char *line = xasprintf("%s\n", j->cmd);
			struct event out = {.type = EV_OUTPUT, .job = j, .stream = 1, .data = line, .len = strlen(line)};
			on_event(sink, &out);
			free(line);
		}
		break;
	case EV_OUTPUT:
		if (o->o.mode == OUTPUT_RAW)
			term_write(ev->stream, ev->data, ev->len);
		else if (o->o.prefix != PREFIX_NONE || o->o.mode == OUTPUT_LINE)
			add_lines(o, j, ev->stream, ev->data, ev->len);
		else
			emit(o, j, ev->stream, ev->data, ev->len);
		break;
	case EV_RETRY:
		job_out_free(o, j);
		break;
	case EV_FINISHED:
		finished(o, j);
		job_out_free(o, j);
		break;
	case EV_RUN_END:
		/* Jobs that never finished leave gaps: print what is there, in order. */
		while (o->cap) {
			bool any = false;
			for (size_t k = 0; k < o->cap; k++)
				any |= o->ring[(o->head + k) % o->cap].present;
			if (!any)
				break;
			if (!o->ring[o->head].present) {
				o->head = (o->head + 1) % o->cap;
				o->next++;
				continue;
			}
			unpark(o);
		}
		break;
	default:
		break;
	}
}

int output_mode_parse(const char *s, enum output_mode *out)
{
	static const char *const names[] = {"line", "group", "raw"};
	static const enum output_mode modes[] = {OUTPUT_LINE, OUTPUT_GROUP, OUTPUT_RAW};
	for (size_t i = 0; i < 3; i++)
		if (strcmp(s, names[i]) == 0) {
			*out = modes[i];
			return 0;
		}
	return -1;
}

static void release(struct sink *s)
{
	struct output_sink *o = (struct output_sink *)s;
	buf_release(&o->line);
	spool_release(&o->spill);
	free(o->ring);
	free(o);
}

struct sink *output_sink_new(const struct output_opts *opts)
{
	struct output_sink *o = xcalloc(1, sizeof *o);
	o->sink.on_event = on_event;
	o->sink.release = release;
	o->o = *opts;
	buf_init(&o->line);
	spool_init_z(&o->spill, o->o.compress);
	return &o->sink;
}
