/* The job source of a fan-out: one job per input (or combination of inputs), read as a stream, with retries, halt rules, timeouts and resume. */
#include "fanout.h"

#define PCRE2_CODE_UNIT_WIDTH 8
#include <errno.h>
#include <fcntl.h>
#include <pcre2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <uv.h>

#include "blocks.h"
#include "events.h"
#include "feed.h"
#include "joblog.h"
#include "parts.h"
#include "pipetmp.h"
#include "reader.h"
#include "run.h"
#include "tmpl.h"
#include "util.h"

/* A job of the fan-out, with the input it came from (kept for retries,
 * whose {%} may differ). */
struct xjob {
	struct job job;
	char *cmd;
	char *tag;
	struct buf argdata;  /* the args, back to back */
	struct block *block; /* --pipe: its stdin; NULL: none */
	int part_fd;         /* --pipe-part: its stdin is part_len bytes of this file from part_off; -1: none */
	off_t part_off, part_len;
	char *tmp;           /* --cat, --fifo: its block's or part's name ({}); NULL: none */
	size_t *tend;        /* input k's args end before arg tend[k] */
	size_t ntup;         /* inputs in it */
	unsigned long long nlines; /* -L: whole lines among them */
	bool going_on;       /* -L: the last line ended in a blank */
	size_t *lens;
	size_t nargs;
	unsigned attempts;
	bool queued;         /* EV_QUEUED sent */
	struct xjob *next;   /* retry or resume queue */
	struct xjob *rprev, *rnext; /* running list */
};

/* One input (a value, or a combination of values, split into columns
 * with --colsep) not yet in a job: taken back from a job it did not fit. */
struct tup {
	struct tup *next;
	struct buf data;
	size_t *lens;
	size_t n;
	unsigned long long no; /* its number, from 1 */
};

/* Every value of one source, read in full. */
struct vals {
	char **v;
	size_t *len;
	size_t n, cap;
};

struct logged {
	unsigned long long seq;
	bool ok;
	char *cmd;
};

struct fanout {
	struct jobsrc src;
	struct fanout_opts o;
	struct vals *vals;        /* by source; the first is unused while streaming */
	size_t nsrc;
	bool streaming;           /* the first source is read as it goes */
	struct reader rd;
	bool have_rd;
	struct blocks *blocks;    /* --pipe: standard input's blocks; NULL: none */
	struct tup *held;         /* inputs taken back, to go first */
	struct xjob *building;    /* a job still collecting its inputs */
	unsigned long long ninputs; /* inputs read */
	bool spread;              /* -X/-m: the last inputs were spread over the slots */
	bool fatal;               /* an input too long for a command line */
	bool said_nul;            /* warned of a NUL byte in the input */
	char **names;             /* --header: the args' names */
	size_t nnames;
	bool crlf_known;          /* looked at the first three inputs' ends */
	unsigned cr_count, nl_count;
	size_t first_pos;         /* SRC_LIST first source: next index */
	bool have_first;
	struct buf first;
	size_t *idx;              /* odometer over sources 1..nsrc-1 */
	unsigned long long link_i, total;
	bool input_done;
	unsigned long long seq;   /* input number of the last tuple */
	unsigned long long handed;/* jobs handed out, for --keep-order */
	struct xjob *retry_head, *retry_tail;
	struct xjob *pend_head, *pend_tail; /* --resume: jobs to run again */
	unsigned long long resume_upto;     /* inputs up to this were handled by the resume scan */
	struct xjob *running;
	uv_timer_t pct_timer;
	bool timer_on;
	uv_timer_t delay_timer;   /* --delay, --memfree, --load: kicks the runner when the next start is due */
	bool delay_on;
	struct xjob *gated;       /* --memfree, --load: the next job, waiting for room */
	uint64_t last_start_ns;   /* --delay: when the last job was handed out; 0: none yet */
	uint32_t *ok_ms;          /* runtimes of successful jobs, for --timeout N% */
	size_t nok, okcap;
	unsigned long long done, failed, succeeded;
	bool halted;
	int halt_status;
	bool stopped;
	struct buf scratch;
	struct buf dry;           /* the last command fanout_next_command gave */
	pcre2_match_data *md;
};

static void vals_add(struct vals *v, const char *s, size_t len)
{
	if (v->n == v->cap) {
		v->cap = v->cap ? v->cap * 2 : 16;
		v->v = xrealloc(v->v, v->cap * sizeof *v->v);
		v->len = xrealloc(v->len, v->cap * sizeof *v->len);
	}
	v->v[v->n] = xstrndup(s, len);
	v->len[v->n] = len;
	v->n++;
}

static void vals_release(struct vals *v)
{
	for (size_t i = 0; i < v->n; i++)
		free(v->v[i]);
	free(v->v);
	free(v->len);
}

static void input_ready(void *ud)
{
	struct fanout *f = ud;
	if (f->src.runner)
		runner_kick(f->src.runner);
}

static void block_warn(void *ud, const char *text)
{
	struct fanout *f = ud;
	events_say(f->o.ev, MSG_WARNING, NULL, "%s", text);
}

/* Opens a SRC_FILE path ("-" is standard input). */
static int open_input(struct fanout *f, const char *path, bool *pollable)
{
	if (strcmp(path, "-") == 0) {
		/* `weft exec gzip` with nothing piped in would wait in silence. */
		static bool said;
		if (!said && isatty(0)) {
			said = true;
			events_say(f->o.ev, MSG_WARNING, NULL,
				   "reading inputs from the terminal: end them with Ctrl-D "
				   "(or give ::: ARGS, :::: FILE, or pipe them in)");
		}
		return reader_open_stdin(pollable);
	}
	*pollable = false;
	return open(path, O_RDONLY | O_CLOEXEC);
}

static int load_source(struct fanout *f, size_t k)
{
	struct fanout_source *s = &f->o.sources[k];
	struct vals *v = &f->vals[k];
	if (s->kind == SRC_LIST) {
		/* As GNU parallel: a value holding the delimiter is several, as
		 * the lines of a file would be. */
		for (size_t i = 0; i < s->nitems; i++) {
			const char *p = s->items[i], *e = p + strlen(p), *d;
			while ((d = memmem(p, (size_t)(e - p), f->o.delim, f->o.dlen)) && d + f->o.dlen < e) {
				vals_add(v, p, (size_t)(d - p));
				p = d + f->o.dlen;
			}
			vals_add(v, p, d ? (size_t)(d - p) : (size_t)(e - p));
		}
		return 0;
	}
	for (size_t i = 0; i < s->nitems; i++) {
		bool pollable;
		int fd = open_input(f, s->items[i], &pollable);
		if (fd < 0) {
			events_say(f->o.ev, MSG_ERROR, NULL, "cannot open input file '%s': %s", s->items[i], strerror(errno));
			return -1;
		}
		struct reader rd;
		reader_init(&rd, NULL, fd, fd != 0, f->o.delim, f->o.dlen, NULL, NULL);
		const char *val;
		size_t len;
		int r;
		while ((r = reader_next_blocking(&rd, &val, &len)) == 1)
			vals_add(v, val, len);
		reader_close(&rd);
		if (r < -1) {
			events_say(f->o.ev, MSG_ERROR, NULL, "cannot read '%s': %s", s->items[i], strerror(-r));
			return -1;
		}
	}
	return 0;
}

/* The next value of the first source: 1, 0 (not yet), -1 (end), or -errno. */
static int next_first(struct fanout *f, const char **val, size_t *len)
{
	if (!f->streaming) {
		if (f->first_pos >= f->vals[0].n)
			return -1;
		*val = f->vals[0].v[f->first_pos];
		*len = f->vals[0].len[f->first_pos];
		f->first_pos++;
		return 1;
	}
	return reader_next(&f->rd, val, len);
}

/* The next combination of inputs, appended to args (values back to back)
 * with their lengths in lens: 1, 0 (not yet: input_ready will kick), -1 (no more). */
static int next_tuple(struct fanout *f, struct buf *args, size_t **lens, size_t *nargs)
{
	*nargs = 0;
	if (f->input_done)
		return -1;
	*lens = xrealloc(*lens, (f->nsrc ? f->nsrc : 1) * sizeof **lens);
	if (f->o.link) {
		if (f->link_i >= f->total) {
			f->input_done = true;
			return -1;
		}
		for (size_t k = 0; k < f->nsrc; k++) {
			struct vals *v = &f->vals[k];
			size_t i = (size_t)(f->link_i % v->n);
			buf_add(args, v->v[i], v->len[i]);
			(*lens)[k] = v->len[i];
		}
		*nargs = f->nsrc;
		f->link_i++;
		return 1;
	}
	for (size_t k = 1; k < f->nsrc; k++)
		if (!f->vals[k].n) {
			f->input_done = true; /* crossing with nothing gives nothing */
			return -1;
		}
	if (!f->have_first) {
		const char *val;
		size_t len;
		int r = next_first(f, &val, &len);
		if (r == 0)
			return 0;
		if (r < 0) {
			if (r < -1)
				events_say(f->o.ev, MSG_ERROR, NULL, "cannot read input: %s", strerror(-r));
			f->input_done = true;
			return -1;
		}
		buf_reset(&f->first);
		buf_add(&f->first, val, len);
		f->have_first = true;
		for (size_t k = 1; k < f->nsrc; k++)
			f->idx[k] = 0;
	}
	buf_add(args, f->first.p, f->first.len);
	(*lens)[0] = f->first.len;
	for (size_t k = 1; k < f->nsrc; k++) {
		struct vals *v = &f->vals[k];
		buf_add(args, v->v[f->idx[k]], v->len[f->idx[k]]);
		(*lens)[k] = v->len[f->idx[k]];
	}
	*nargs = f->nsrc ? f->nsrc : 1;
	/* The last source turns fastest, as in GNU parallel. */
	size_t k = f->nsrc;
	for (;;) {
		if (k <= 1) {
			f->have_first = false;
			break;
		}
		k--;
		if (++f->idx[k] < f->vals[k].n)
			break;
		f->idx[k] = 0;
	}
	return 1;
}

/* --colsep: splits each value into columns; the columns become the args. */
static void split_columns(struct fanout *f, struct buf *args, size_t **lens, size_t *nargs)
{
	pcre2_code *re = f->o.colsep;
	struct buf out;
	buf_init(&out);
	size_t n = 0, cap = *nargs ? *nargs * 2 : 2;
	size_t *nl = xmalloc(cap * sizeof *nl);
	const char *p = args->p ? args->p : "";
	for (size_t a = 0; a < *nargs; a++) {
		size_t len = (*lens)[a];
		PCRE2_SIZE start = 0;
		for (;;) {
			/* As Perl's split (so GNU parallel's): a separator may match
			 * the empty string, but not where the column starts, nor at
			 * the very end; ' *' splits "ab" into "a" and "b". */
			int rc = pcre2_match(re, (PCRE2_SPTR)p, len, start, PCRE2_NOTEMPTY_ATSTART, f->md, NULL);
			PCRE2_SIZE *ov = pcre2_get_ovector_pointer(f->md);
			bool sep = rc >= 0 && !(ov[0] == ov[1] && ov[0] == len);
			size_t end = sep ? ov[0] : len;
			if (n == cap) {
				cap *= 2;
				nl = xrealloc(nl, cap * sizeof *nl);
			}
			/* As GNU parallel (--trim lr, its default with --colsep): no
			 * white space around a column. */
			size_t b = start, e = end;
			while (b < e && strchr(" \t\n\r\f\v", p[b]))
				b++;
			while (e > b && strchr(" \t\n\r\f\v", p[e - 1]))
				e--;
			buf_add(&out, p + b, e - b);
			nl[n++] = e - b;
			if (end == len)
				break;
			start = ov[1];
		}
		p += len;
	}
	buf_release(args);
	*args = out;
	free(*lens);
	*lens = nl;
	*nargs = n;
}

static void expand(struct fanout *f, struct xjob *x, unsigned slot)
{
	const char **argv = xmalloc((x->nargs + 1) * sizeof *argv);
	const char *p = x->argdata.p ? x->argdata.p : "";
	for (size_t i = 0; i < x->nargs; i++) {
		argv[i] = p;
		p += x->lens[i];
	}
	struct tmpl_input in = {argv, x->lens, x->nargs, x->job.seq, slot};
	buf_reset(&f->scratch);
	if (f->o.cmd && tmpl_is_one_arg(f->o.cmd)) {
		/* `weft exec {}`: each input is a command of its own, as it is. */
		tmpl_expand_plain(f->o.cmd, &in, &f->scratch);
	} else if (f->o.cmd && f->o.context) {
		tmpl_expand_context(f->o.cmd, &in, x->tend, x->ntup, &f->scratch);
	} else if (f->o.cmd) {
		tmpl_expand(f->o.cmd, &in, &f->scratch);
	} else {
		/* No command: each input is a command line of its own. */
		for (size_t i = 0; i < x->nargs; i++) {
			if (i)
				buf_add(&f->scratch, " ", 1);
			buf_add(&f->scratch, argv[i], x->lens[i]);
		}
	}
	free(x->cmd);
	x->cmd = buf_take(&f->scratch);
	if (f->o.tag || f->o.tagstring) {
		buf_reset(&f->scratch);
		if (f->o.tagstring) {
			tmpl_expand_plain(f->o.tagstring, &in, &f->scratch);
		} else {
			for (size_t i = 0; i < x->nargs; i++) {
				if (i)
					buf_add(&f->scratch, " ", 1);
				buf_add(&f->scratch, argv[i], x->lens[i]);
			}
		}
		free(x->tag);
		x->tag = buf_take(&f->scratch);
	}
	free(argv);
	x->job.cmd = x->cmd;
	x->job.cmd_lines = 1;
	x->job.name = x->tag ? x->tag : x->cmd;
	x->job.args = x->nargs ? (x->argdata.p ? x->argdata.p : "") : NULL;
	x->job.arg_lens = x->lens;
	x->job.nargs = x->nargs;
	x->job.arg_end = x->tend;
	x->job.ninputs = x->ntup;
}

static void xjob_free(struct xjob *x);

/* --pipe: the next block of input, as the job's stdin: 1, 0 (not yet), -1 (no more). */
static int next_block(struct fanout *f, struct block **b)
{
	if (f->input_done)
		return -1;
	int r = blocks_next(f->blocks, b);
	if (r < -1)
		events_say(f->o.ev, MSG_ERROR, NULL, "cannot read input: %s", strerror(-r));
	if (r < 0)
		f->input_done = true;
	return r < 0 ? -1 : r;
}

/* What GNU parallel warns about in input: a NUL byte, which no argument
 * can hold (it becomes the two characters \0), and lines that end in
 * CR-LF while the delimiter is a newline. */
static void check_input(struct fanout *f, struct tup *t)
{
	if (t->data.len && memchr(t->data.p, '\0', t->data.len)) {
		struct buf b;
		buf_init(&b);
		const char *p = t->data.p;
		for (size_t i = 0; i < t->n; i++) {
			size_t was = b.len;
			for (size_t k = 0; k < t->lens[i]; k++)
				buf_add(&b, p[k] ? p + k : "\\0", p[k] ? 1 : 2);
			p += t->lens[i];
			t->lens[i] = b.len - was;
		}
		buf_release(&t->data);
		t->data = b;
		if (!f->said_nul) {
			f->said_nul = true;
			events_say(f->o.ev, MSG_WARNING, NULL,
				   "a NUL byte in the input was replaced with \\0: an argument cannot hold one "
				   "(did you mean -0, --null?)");
		}
	}
	if (f->o.delim_given || f->crlf_known || !t->n)
		return;
	if (t->lens[0] && t->data.p[t->lens[0] - 1] == '\r')
		f->cr_count++;
	else
		f->nl_count++;
	if (f->cr_count == 3 || f->nl_count == 3) {
		f->crlf_known = true;
		if (!f->nl_count)
			events_say(f->o.ev, MSG_WARNING, NULL,
				   "the first three inputs end in CR-LF: consider -d '\\r\\n'");
	}
}

static struct tup *take_tuple(struct fanout *f, int *r)
{
	struct tup *t = f->held;
	if (t) {
		f->held = t->next;
		*r = 1;
		return t;
	}
	t = xcalloc(1, sizeof *t);
	buf_init(&t->data);
	*r = next_tuple(f, &t->data, &t->lens, &t->n);
	if (*r <= 0) {
		buf_release(&t->data);
		free(t->lens);
		free(t);
		return NULL;
	}
	check_input(f, t);
	if (f->o.colsep)
		split_columns(f, &t->data, &t->lens, &t->n);
	t->no = ++f->ninputs;
	return t;
}

static void tup_free(struct tup *t)
{
	buf_release(&t->data);
	free(t->lens);
	free(t);
}

static void add_tuple(struct xjob *x, struct tup *t, bool lines)
{
	x->lens = xrealloc(x->lens, (x->nargs + t->n + 1) * sizeof *x->lens);
	x->tend = xrealloc(x->tend, (x->ntup + 1) * sizeof *x->tend);
	/* -L: a line that ends in a blank goes on in the next one (xargs'
	 * rule): they are one input. */
	bool goes_on = lines && t->n == 1 && t->data.len &&
		       (t->data.p[t->data.len - 1] == ' ' || t->data.p[t->data.len - 1] == '\t');
	buf_add(&x->argdata, t->data.p ? t->data.p : "", t->data.len);
	if (x->going_on) {
		x->lens[x->nargs - 1] += t->data.len;
		x->going_on = goes_on;
		x->nlines += !goes_on;
		return;
	}
	x->going_on = goes_on;
	memcpy(x->lens + x->nargs, t->lens, t->n * sizeof *t->lens);
	x->nargs += t->n;
	x->tend[x->ntup++] = x->nargs;
	x->nlines += !goes_on;
}

/* Gives inputs k.. of x back, to go first into the next job. */
static void unget_from(struct fanout *f, struct xjob *x, size_t k)
{
	size_t off = 0;
	for (size_t i = 0; i < x->tend[k - 1]; i++)
		off += x->lens[i];
	struct tup **tail = &f->held, *rest = f->held;
	for (size_t i = k; i < x->ntup; i++) {
		struct tup *t = xcalloc(1, sizeof *t);
		buf_init(&t->data);
		size_t a = x->tend[i - 1], n = x->tend[i] - a, len = 0;
		for (size_t j = a; j < a + n; j++)
			len += x->lens[j];
		buf_add(&t->data, x->argdata.p + off, len);
		t->lens = xmalloc((n ? n : 1) * sizeof *t->lens);
		memcpy(t->lens, x->lens + a, n * sizeof *t->lens);
		t->n = n;
		off += len;
		*tail = t;
		tail = &t->next;
	}
	*tail = rest;
	x->nargs = x->tend[k - 1];
	x->ntup = k;
	size_t keep = 0;
	for (size_t i = 0; i < x->nargs; i++)
		keep += x->lens[i];
	x->argdata.len = keep;
}

/* The length of x's command with its first k inputs. */
static size_t cmd_len(struct fanout *f, struct xjob *x, size_t k)
{
	if (!f->o.cmd) {
		size_t n = 0;
		for (size_t i = 0; i < x->tend[k - 1]; i++)
			n += x->lens[i] + 1;
		return n ? n - 1 : 0;
	}
	const char **argv = xmalloc((x->nargs + 1) * sizeof *argv);
	const char *p = x->argdata.p ? x->argdata.p : "";
	for (size_t i = 0; i < x->nargs; i++) {
		argv[i] = p;
		p += x->lens[i];
	}
	struct tmpl_input in = {argv, x->lens, x->tend[k - 1], f->seq + 1, 1};
	buf_reset(&f->scratch);
	if (f->o.context)
		tmpl_expand_context(f->o.cmd, &in, x->tend, k, &f->scratch);
	else
		tmpl_expand(f->o.cmd, &in, &f->scratch);
	free(argv);
	return f->scratch.len;
}

static void too_long(struct fanout *f, struct xjob *x, size_t len)
{
	size_t n = x->lens[0] < 50 ? x->lens[0] : 50;
	events_say(f->o.ev, MSG_ERROR, NULL, "command line too long (%zu >= %zu) at input %llu: %.*s%s", len,
		   f->o.max_chars, f->ninputs - (x->ntup - 1), (int)n, x->argdata.p ? x->argdata.p : "",
		   n < x->lens[0] ? "..." : "");
	f->fatal = true;
	f->input_done = true;
	if (f->src.runner)
		runner_halt(f->src.runner);
}

/* Of x's ntup inputs, keeps as many as its command line holds (the ones
 * up to `ok` are known to fit) and gives the others back. Returns false
 * when not even the first fits. */
static bool fit(struct fanout *f, struct xjob *x, size_t ok)
{
	if (!f->o.max_chars)
		return true;
	size_t len = cmd_len(f, x, x->ntup);
	if (len < f->o.max_chars)
		return true;
	if (x->ntup == 1 || (!ok && cmd_len(f, x, 1) >= f->o.max_chars)) {
		too_long(f, x, x->ntup == 1 ? len : cmd_len(f, x, 1));
		return false;
	}
	size_t lo = ok ? ok : 1, hi = x->ntup; /* lo fits, hi does not */
	while (hi - lo > 1) {
		size_t mid = lo + (hi - lo) / 2;
		if (cmd_len(f, x, mid) < f->o.max_chars)
			lo = mid;
		else
			hi = mid;
	}
	unget_from(f, x, lo);
	return true;
}

static bool group_full(const struct fanout *f, const struct xjob *x)
{
	if (f->o.max_args)
		return (f->o.lines ? x->nlines : x->ntup) >= f->o.max_args;
	return !f->o.fill;
}

/* A job of the next input, or with -n, -N, -L, -X or -m of the next
 * inputs: NULL when none is ready yet (input_ready will kick) or none
 * is left. */
static struct xjob *make_job(struct fanout *f)
{
	struct xjob *x = f->building;
	f->building = NULL;
	if (!x) {
		x = xcalloc(1, sizeof *x);
		buf_init(&x->argdata);
	}
	x->part_fd = -1;
	if (f->blocks) {
		int r = next_block(f, &x->block);
		if (r <= 0) {
			xjob_free(x);
			return NULL;
		}
	} else if (f->o.parts) {
		if (parts_next(f->o.parts, &x->part_fd, &x->part_off, &x->part_len) < 0) {
			xjob_free(x);
			return NULL;
		}
	} else {
		bool eof = false;
		size_t ok = 0; /* inputs known to fit */
		while (!f->fatal && !(x->ntup && group_full(f, x))) {
			int r;
			struct tup *t = take_tuple(f, &r);
			if (r == 0) {
				f->building = x;
				return NULL;
			}
			if (r < 0) {
				eof = true;
				break;
			}
			add_tuple(x, t, f->o.lines);
			tup_free(t);
			/* Check the length at 1, 2, 4, 8... inputs, not at every one. */
			if ((x->ntup & (x->ntup - 1)) == 0) {
				size_t had = x->ntup;
				if (!fit(f, x, ok) || x->ntup < had)
					break; /* too long, or the line is full */
				ok = x->ntup;
			}
		}
		if (!x->ntup || f->fatal || (x->ntup > ok && !fit(f, x, ok))) {
			xjob_free(x);
			return NULL;
		}
		/* GNU parallel's -X and -m: when the input ends, what is left is
		 * spread over the job slots, once. */
		if (eof && f->o.fill && !f->spread && x->ntup > 1 && f->o.jobs > 1) {
			f->spread = true;
			unsigned long long per = (x->ntup + f->o.jobs - 1) / f->o.jobs;
			if (per < x->ntup)
				unget_from(f, x, (size_t)per);
			f->o.max_args = per;
		}
	}
	x->job.seq = ++f->seq;
	x->job.timeout_ms = f->o.timeout_ms;
	return x;
}

static void xjob_free(struct xjob *x)
{
	if (x->tmp)
		unlink(x->tmp);
	free(x->tmp);
	free(x->tend);
	block_unref(x->block);
	free(x->cmd);
	free(x->tag);
	buf_release(&x->argdata);
	free(x->lens);
	free(x);
}

static void running_add(struct fanout *f, struct xjob *x)
{
	x->rprev = NULL;
	x->rnext = f->running;
	if (f->running)
		f->running->rprev = x;
	f->running = x;
}

static void running_del(struct fanout *f, struct xjob *x)
{
	if (x->rprev)
		x->rprev->rnext = x->rnext;
	else if (f->running == x)
		f->running = x->rnext;
	if (x->rnext)
		x->rnext->rprev = x->rprev;
	x->rprev = x->rnext = NULL;
}

static struct xjob *pop(struct xjob **head, struct xjob **tail)
{
	struct xjob *x = *head;
	if (x) {
		*head = x->next;
		if (!*head)
			*tail = NULL;
		x->next = NULL;
	}
	return x;
}

static void push(struct xjob **head, struct xjob **tail, struct xjob *x)
{
	x->next = NULL;
	if (*tail)
		(*tail)->next = x;
	else
		*head = x;
	*tail = x;
}

static void delay_cb(uv_timer_t *t)
{
	struct fanout *f = t->data;
	if (f->src.runner)
		runner_kick(f->src.runner);
}

/* How often --memfree and --load look again while there is no room. */
#define LIMITS_RECHECK_MS 250

/* Kicks the runner in ms milliseconds. */
static void arm_timer(struct fanout *f, uint64_t ms)
{
	if (!f->delay_on) {
		uv_timer_init(uv_default_loop(), &f->delay_timer);
		f->delay_timer.data = f;
		f->delay_on = true;
	}
	uv_timer_start(&f->delay_timer, delay_cb, ms, 0);
}

/* --delay: whether the next job may start now; if not, a timer kicks the
 * runner when it may. */
static bool delay_over(struct fanout *f)
{
	if (!f->o.delay_ms || !f->last_start_ns)
		return true;
	uint64_t due = f->last_start_ns + f->o.delay_ms * 1000000ull, now = now_ns();
	if (now >= due)
		return true;
	arm_timer(f, (due - now + 999999) / 1000000);
	return false;
}

static struct job *next(struct jobsrc *s, unsigned slot)
{
	struct fanout *f = (struct fanout *)s;
	if (f->stopped || !delay_over(f))
		return NULL;
	struct xjob *x = f->gated;
	f->gated = NULL;
	if (!x)
		x = pop(&f->retry_head, &f->retry_tail);
	if (!x)
		x = pop(&f->pend_head, &f->pend_tail);
	if (!x) {
		x = make_job(f);
		if (!x)
			return NULL;
		x->job.order = f->handed++;
	}
	if ((f->o.limits.memfree || f->o.limits.load > 0) && !limits_room(&f->o.limits)) {
		/* No room now: the job waits, and a timer looks again. */
		f->gated = x;
		arm_timer(f, LIMITS_RECHECK_MS);
		return NULL;
	}
	if (f->o.pipetmp && !x->tmp && !x->job.decided && (x->block || x->part_fd >= 0)) {
		int err = pipetmp_make(f->o.pipetmp, x->block, x->part_fd, x->part_off, x->part_len, &x->tmp);
		if (err < 0) {
			x->job.decided = true;
			x->job.result = JOB_SPAWN_ERROR;
			x->job.spawn_error = err;
		} else {
			/* Its name is the job's one arg: {} in the command, or put at its end. */
			buf_adds(&x->argdata, x->tmp);
			x->lens = xrealloc(x->lens, sizeof *x->lens);
			x->lens[0] = strlen(x->tmp);
			x->tend = xrealloc(x->tend, sizeof *x->tend);
			x->tend[0] = 1;
			x->nargs = x->ntup = 1;
		}
	}
	expand(f, x, slot);
	if (x->tmp && f->o.fifo) {
		char *w = pipetmp_fifo_command(x->cmd, x->tmp);
		free(x->cmd);
		x->job.cmd = x->cmd = w;
	}
	if (x->job.decided) {
		/* Its temporary file could not be made. */
	} else if (x->tmp && !f->o.fifo) {
		x->job.stdin_fd = 0;
	} else if (x->block || x->part_fd >= 0) {
		int fd = x->block ? feed_start(uv_default_loop(), x->block)
				  : feed_range(uv_default_loop(), x->part_fd, x->part_off, x->part_len);
		x->job.decided = fd < 0;
		if (fd < 0) {
			x->job.result = JOB_SPAWN_ERROR;
			x->job.spawn_error = fd;
		} else {
			x->job.stdin_fd = fd;
		}
	}
	if (!x->queued) {
		x->queued = true;
		events_queue(s->ev, &x->job);
	}
	running_add(f, x);
	f->last_start_ns = now_ns();
	return &x->job;
}

static int job_status(const struct job *j)
{
	switch (j->result) {
	case JOB_EXIT:
		return j->exit_code;
	case JOB_SIGNAL:
		return 128 + j->term_signal;
	case JOB_OK:
		return 0;
	default:
		return 1;
	}
}

static void check_halt(struct fanout *f, struct xjob *x, bool ok)
{
	const struct halt *h = &f->o.halt;
	if (h->when == HALT_NEVER || f->halted)
		return;
	bool hit;
	unsigned long long count;
	switch (h->what) {
	case HALT_FAIL:
		hit = !ok;
		count = f->failed;
		break;
	case HALT_SUCCESS:
		hit = ok;
		count = f->succeeded;
		break;
	default:
		hit = true;
		count = f->done;
		break;
	}
	unsigned long long need = h->pct ? (f->total * h->n + 99) / 100 : h->n;
	if (!hit || count < (need ? need : 1))
		return;
	f->halted = true;
	/* As GNU parallel: a success halt ends well; a halt at one job (fail=1,
	 * done=1, or a percentage that comes to one job) has that job's
	 * status; any other, the number of failed jobs (at most 101), or with
	 * a percentage, the failed share of all jobs, rounded up. */
	bool one = h->pct ? f->total * h->n == 100 : h->n == 1;
	if (h->what == HALT_SUCCESS)
		f->halt_status = 0;
	else if (one)
		f->halt_status = job_status(&x->job);
	else if (h->pct)
		f->halt_status = f->total ? (int)((f->failed * 100 + f->total - 1) / f->total) : 0;
	else
		f->halt_status = f->failed > 101 ? 101 : (int)f->failed;
	events_say(f->src.ev, MSG_INFO, &x->job, "%s:\n%s",
		   h->what == HALT_DONE ? "this job finished" : ok ? "this job succeeded" : "this job failed", x->cmd);
	if (h->when == HALT_NOW)
		runner_stop(f->src.runner, false);
	else
		runner_halt(f->src.runner);
}

static void done(struct jobsrc *s, struct job *j)
{
	struct fanout *f = (struct fanout *)s;
	struct xjob *x = (struct xjob *)j;
	running_del(f, x);
	bool ok = j->result == JOB_OK;
	f->done++;
	if (!ok) {
		f->failed++;
	} else {
		f->succeeded++;
		/* Only --timeout N% needs the runtimes: without it memory stays
		 * flat in the number of jobs. */
		if (f->o.timeout_pct) {
			grow(&f->ok_ms, &f->okcap, f->nok + 1, sizeof *f->ok_ms);
			uint64_t ms = (j->end_ns - j->start_ns) / 1000000;
			f->ok_ms[f->nok++] = ms > UINT32_MAX ? UINT32_MAX : (uint32_t)ms;
		}
	}
	if (f->src.runner)
		check_halt(f, x, ok);
	xjob_free(x);
}

static bool retry(struct jobsrc *s, struct job *j)
{
	struct fanout *f = (struct fanout *)s;
	struct xjob *x = (struct xjob *)j;
	if (++x->attempts >= f->o.retries)
		return false;
	running_del(f, x);
	push(&f->retry_head, &f->retry_tail, x);
	return true;
}

static void stop(struct jobsrc *s)
{
	((struct fanout *)s)->stopped = true;
}

/* After stop(): a job handed out that never started (a cluster's runner
 * held it) waits with the others that never did, first, for finish(). */
static void unstart(struct jobsrc *s, struct job *j)
{
	struct fanout *f = (struct fanout *)s;
	struct xjob *x = (struct xjob *)j;
	running_del(f, x);
	x->next = f->retry_head;
	f->retry_head = x;
	if (!f->retry_tail)
		f->retry_tail = x;
}

static void timer_close_cb(uv_handle_t *h)
{
	(void)h;
}

/* Jobs known but never started: a retry still waiting, or one a --resume
 * meant to run again. */
static void skip_waiting(struct fanout *f, struct xjob **head, struct xjob **tail)
{
	struct xjob *x;
	while ((x = pop(head, tail))) {
		if (x->queued)
			events_skip(f->src.ev, &x->job, "stopped");
		xjob_free(x);
	}
}

static void finish(struct jobsrc *s)
{
	struct fanout *f = (struct fanout *)s;
	if (f->gated) {
		push(&f->retry_head, &f->retry_tail, f->gated);
		f->gated = NULL;
	}
	if (s->ev) {
		skip_waiting(f, &f->retry_head, &f->retry_tail);
		skip_waiting(f, &f->pend_head, &f->pend_tail);
	}
	if (f->have_rd) {
		reader_close(&f->rd);
		f->have_rd = false;
	}
	blocks_free(f->blocks);
	f->blocks = NULL;
	if (f->delay_on) {
		uv_timer_stop(&f->delay_timer);
		uv_close((uv_handle_t *)&f->delay_timer, timer_close_cb);
		f->delay_on = false;
	}
	if (f->timer_on) {
		uv_timer_stop(&f->pct_timer);
		uv_close((uv_handle_t *)&f->pct_timer, timer_close_cb);
		f->timer_on = false;
	}
}

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
	return x < y ? -1 : x > y;
}

/* --timeout N%: stops jobs that run longer than N% of the median runtime
 * of the jobs that succeeded so far. */
static void pct_cb(uv_timer_t *t)
{
	struct fanout *f = t->data;
	if (!f->nok || !f->running || !f->src.runner)
		return;
	qsort(f->ok_ms, f->nok, sizeof *f->ok_ms, cmp_u32);
	uint64_t median = f->ok_ms[f->nok / 2];
	uint64_t limit = median * f->o.timeout_pct / 100;
	uint64_t now = now_ns();
	for (struct xjob *x = f->running, *nx; x; x = nx) {
		nx = x->rnext;
		if (x->job.start_ns && (now - x->job.start_ns) / 1000000 > limit)
			runner_timeout(f->src.runner, &x->job);
	}
}

struct log_read {
	struct fanout *f;
	struct logged *v;
	size_t n, cap;
};

static void log_bad_cb(void *ud, unsigned long line, const char *why)
{
	struct log_read *lr = ud;
	events_say(lr->f->o.ev, MSG_WARNING, NULL, "ignoring line %lu of the job log: %s", line, why);
}

static int cmp_logged(const void *a, const void *b)
{
	const struct logged *x = a, *y = b;
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}


static void log_cb(void *ud, const struct joblog_rec *r)
{
	struct log_read *lr = ud;
	grow(&lr->v, &lr->cap, lr->n + 1, sizeof *lr->v);
	lr->v[lr->n].seq = r->seq;
	lr->v[lr->n].ok = r->exitval == 0 && r->signal == 0;
	lr->v[lr->n].cmd = xstrdup(r->command);
	lr->n++;
}

/* --resume: reads the log, checks it matches this run's commands, and
 * queues the inputs it does not record as done. Nothing runs before this
 * has passed. Returns 0 or -1 after printing why. */
static int resume_scan(struct fanout *f)
{
	struct log_read lr = {.f = f};
	unsigned torn = 0;
	int r = joblog_read(f->o.resume_log, log_cb, log_bad_cb, &lr, &torn);
	if (r < 0) {
		events_say(f->o.ev, MSG_ERROR, NULL, "cannot read job log '%s': %s", f->o.resume_log, strerror(-r));
		return -1;
	}
	if (torn)
		events_say(f->o.ev, MSG_WARNING, NULL, "ignoring the unfinished last line of '%s'", f->o.resume_log);
	if (lr.n > 1)
		qsort(lr.v, lr.n, sizeof *lr.v, cmp_logged);
	int rc = 0;
	/* Blocking is fine here: nothing runs until the scan is done. */
	f->rd.blocking = true;
	if (f->blocks)
		blocks_set_blocking(f->blocks, true);
	unsigned long long upto = lr.n ? lr.v[lr.n - 1].seq : 0;
	size_t li = 0;
	for (unsigned long long seq = 1; seq <= upto; seq++) {
		struct xjob *x = make_job(f);
		if (!x) {
			events_say(f->o.ev, MSG_ERROR, NULL,
				   "--resume: the job log '%s' records job %llu, but this run has only %llu inputs; "
				   "refusing to resume a different input set",
				   f->o.resume_log, upto, seq - 1);
			rc = -1;
			break;
		}
		while (li < lr.n && lr.v[li].seq < seq)
			li++;
		bool logged = li < lr.n && lr.v[li].seq == seq;
		/* A job may be logged more than once (failed, then run again by
		 * --resume-failed): it succeeded if any of its runs did. */
		bool any_ok = false;
		for (size_t k = li; k < lr.n && lr.v[k].seq == seq; k++)
			any_ok |= lr.v[k].ok;
		if (logged && !f->o.cmd_has_slot) {
			expand(f, x, 1);
			if (strcmp(x->cmd, lr.v[li].cmd) != 0) {
				events_say(f->o.ev, MSG_ERROR, NULL,
					   "--resume: job %llu in '%s' ran '%s', but this run would run '%s'; "
					   "refusing to resume a different command or input set",
					   seq, f->o.resume_log, lr.v[li].cmd, x->cmd);
				xjob_free(x);
				rc = -1;
				break;
			}
		}
		if (logged && (any_ok || !f->o.resume_failed)) {
			xjob_free(x);
			continue;
		}
		x->job.order = f->handed++;
		push(&f->pend_head, &f->pend_tail, x);
	}
	f->rd.blocking = false;
	if (f->blocks)
		blocks_set_blocking(f->blocks, false);
	for (size_t i = 0; i < lr.n; i++)
		free(lr.v[i].cmd);
	free(lr.v);
	return rc;
}

/* --header: takes the first value of each source as its name, or its
 * columns' names with --colsep. Returns 0, or -1 after saying why. */
static int read_header(struct fanout *f)
{
	struct buf vals;
	buf_init(&vals);
	size_t *lens = xmalloc((f->nsrc + 1) * sizeof *lens), n = 0;
	for (size_t k = 0; k < f->nsrc; k++) {
		const char *val;
		size_t len;
		if (k == 0 && f->streaming) {
			f->rd.blocking = true;
			int r = reader_next(&f->rd, &val, &len);
			f->rd.blocking = false;
			if (r != 1)
				val = "", len = 0;
			buf_add(&vals, val, len);
		} else if (f->vals[k].n) {
			struct vals *v = &f->vals[k];
			len = v->len[0];
			buf_add(&vals, v->v[0], len);
			free(v->v[0]);
			memmove(v->v, v->v + 1, (v->n - 1) * sizeof *v->v);
			memmove(v->len, v->len + 1, (v->n - 1) * sizeof *v->len);
			v->n--;
		} else {
			len = 0;
		}
		lens[n++] = len;
	}
	if (f->o.colsep)
		split_columns(f, &vals, &lens, &n);
	f->names = xcalloc(n + 1, sizeof *f->names);
	const char *p = vals.p ? vals.p : "";
	for (size_t i = 0; i < n; i++) {
		f->names[i] = xstrndup(p, lens[i]);
		p += lens[i];
	}
	f->nnames = n;
	buf_release(&vals);
	free(lens);
	return 0;
}

char *const *fanout_names(const struct fanout *f, size_t *n)
{
	*n = f->nnames;
	return f->names;
}

void fanout_set_cmd(struct fanout *f, struct tmpl *cmd)
{
	f->o.cmd = cmd;
}

/* --shuf: every input, taken now and put back in a random order. */
static void shuffle_inputs(struct fanout *f)
{
	struct tup **v = NULL, *t;
	size_t n = 0, cap = 0;
	int r;
	while ((t = take_tuple(f, &r))) {
		grow(&v, &cap, n + 1, sizeof *v);
		v[n++] = t;
	}
	srandom((unsigned)(now_ns() ^ (uint64_t)getpid()));
	for (size_t i = n; i > 1; i--) {
		size_t k = (size_t)random() % i;
		struct tup *x = v[i - 1];
		v[i - 1] = v[k];
		v[k] = x;
	}
	for (size_t i = n; i-- > 0;) {
		v[i]->next = f->held;
		f->held = v[i];
	}
	free(v);
}

int fanout_new(struct fanout **out, const struct fanout_opts *o)
{
	struct fanout *f = xcalloc(1, sizeof *f);
	*out = f;
	f->o = *o;
	f->src.next = next;
	f->src.done = done;
	f->src.stop = stop;
	f->src.finish = finish;
	f->src.retry = retry;
	f->src.unstart = unstart;
	/* Jobs may wait on a cluster's runner before they start, unless
	 * something depends on their slot or on when they start: {%}, --delay,
	 * --load/--memfree, --timeout N%, a --halt rule (a job that never
	 * started would be queued and skipped, where alone it is never made). */
	f->src.ahead_ok = !o->cmd_has_slot && !(o->tagstring && tmpl_uses_slot(o->tagstring)) && !o->delay_ms && !o->limits.memfree && !(o->limits.load > 0) &&
			  !o->timeout_pct && o->halt.when == HALT_NEVER;
	buf_init(&f->first);
	buf_init(&f->scratch);
	buf_init(&f->dry);
	if (o->colsep)
		f->md = pcre2_match_data_create_from_pattern(o->colsep, NULL);

	/* No sources: standard input is the one. */
	static char dash[] = "-";
	static char *dash_items[] = {dash};
	static struct fanout_source stdin_src = {SRC_FILE, dash_items, 1};
	if (!o->nsources) {
		f->o.sources = &stdin_src;
		f->o.nsources = 1;
	}
	/* Each file of `:::: a b` is a source of its own. */
	size_t n = 0;
	for (size_t i = 0; i < f->o.nsources; i++)
		n += f->o.sources[i].kind == SRC_FILE ? f->o.sources[i].nitems : 1;
	struct fanout_source *srcs = xcalloc(n, sizeof *srcs);
	n = 0;
	for (size_t i = 0; i < f->o.nsources; i++) {
		struct fanout_source *s = &f->o.sources[i];
		if (s->kind == SRC_FILE)
			for (size_t k = 0; k < s->nitems; k++)
				srcs[n++] = (struct fanout_source){SRC_FILE, &s->items[k], 1};
		else
			srcs[n++] = *s;
	}
	f->o.sources = srcs;
	f->o.nsources = f->nsrc = n;
	f->vals = xcalloc(n, sizeof *f->vals);
	f->idx = xcalloc(n, sizeof *f->idx);

	if (o->pipe) {
		bool pollable;
		int fd = open_input(f, "-", &pollable);
		f->blocks = blocks_new(fd, fd != 0, pollable ? uv_default_loop() : NULL, o->pipe, input_ready,
				       block_warn, f);
		n = 0;
	}
	if (o->parts) {
		f->total = parts_count(o->parts);
		n = 0;
	}
	f->streaming = !o->pipe && !o->parts && !o->link && !o->need_total && f->o.sources[0].kind == SRC_FILE;
	for (size_t k = f->streaming ? 1 : 0; k < n; k++)
		if (load_source(f, k) < 0)
			return -1;
	if (f->streaming) {
		bool pollable;
		const char *path = f->o.sources[0].items[0];
		int fd = open_input(f, path, &pollable);
		if (fd < 0) {
			events_say(f->o.ev, MSG_ERROR, NULL, "cannot open input file '%s': %s", path, strerror(errno));
			return -1;
		}
		reader_init(&f->rd, pollable ? uv_default_loop() : NULL, fd, fd != 0, o->delim, o->dlen, input_ready, f);
		f->have_rd = true;
	}
	if (o->header && read_header(f) < 0)
		return -1;
	if (o->link) {
		for (size_t k = 0; k < n; k++)
			if (f->vals[k].n > f->total)
				f->total = f->vals[k].n;
		for (size_t k = 0; k < n; k++)
			if (!f->vals[k].n)
				f->total = 0;
	} else if (!f->streaming && !o->pipe && !o->parts) {
		f->total = 1;
		for (size_t k = 0; k < n; k++)
			f->total *= f->vals[k].n;
	}
	if (o->shuf)
		shuffle_inputs(f);
	if (o->resume_log && resume_scan(f) < 0)
		return -1;
	if (o->timeout_pct) {
		uv_timer_init(uv_default_loop(), &f->pct_timer);
		f->pct_timer.data = f;
		uv_timer_start(&f->pct_timer, pct_cb, 100, 100);
		uv_unref((uv_handle_t *)&f->pct_timer);
		f->timer_on = true;
	}
	return 0;
}

struct jobsrc *fanout_src(struct fanout *f)
{
	return &f->src;
}

const char *fanout_next_command(struct fanout *f)
{
	/* A dry run may wait for input: nothing else is going on. */
	f->rd.blocking = true;
	if (f->blocks)
		blocks_set_blocking(f->blocks, true);
	struct xjob *x = pop(&f->pend_head, &f->pend_tail);
	if (!x)
		x = make_job(f);
	if (!x)
		return NULL;
	expand(f, x, 1);
	buf_reset(&f->dry);
	buf_adds(&f->dry, x->cmd);
	xjob_free(x);
	return f->dry.p;
}

bool fanout_failed(const struct fanout *f)
{
	return f->fatal;
}

int fanout_status(const struct fanout *f)
{
	if (f->fatal)
		return 255;
	if (f->halted)
		return f->halt_status;
	return f->failed > 100 ? 101 : (int)f->failed;
}

unsigned long long fanout_total(const struct fanout *f)
{
	return f->total;
}

void fanout_free(struct fanout *f)
{
	if (!f)
		return;
	f->src.ev = NULL;
	finish(&f->src);
	for (size_t k = 0; k < f->nsrc; k++)
		vals_release(&f->vals[k]);
	free(f->vals);
	free(f->idx);
	free(f->o.sources);
	struct xjob *x;
	while ((x = pop(&f->retry_head, &f->retry_tail)))
		xjob_free(x);
	while ((x = pop(&f->pend_head, &f->pend_tail)))
		xjob_free(x);
	while (f->held) {
		struct tup *t = f->held;
		f->held = t->next;
		tup_free(t);
	}
	if (f->building)
		xjob_free(f->building);
	if (f->names)
		free_words(f->names);
	free(f->ok_ms);
	buf_release(&f->first);
	buf_release(&f->scratch);
	buf_release(&f->dry);
	if (f->md)
		pcre2_match_data_free(f->md);
	free(f);
}
