/* The sink that keeps each job's output as GNU parallel's --results keeps it: a tree of files per input, or one CSV, TSV or JSON file. */
#include "sinks.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../events.h"
#include "../term.h"
#include "../tmpl.h"
#include "../util.h"

enum results_kind { RES_TREE, RES_CSV, RES_JSON };

struct results {
	struct sink sink;
	enum results_kind kind;
	const char *name;            /* as given */
	const struct tmpl *name_tmpl;/* the name with its replacement strings; borrowed */
	char *const *names;          /* --header's names of the args; NULL: 1, 2... */
	size_t nnames;
	char sep;                    /* CSV: ',' or '\t' */
	int fd;                      /* CSV, JSON: the file; -1: weft's stdout, through term */
	bool header_done;            /* CSV: the header line is written */
	struct events *ev;           /* the run's: a failed write halts it */
	int error;                   /* -errno of the first failed write; then nothing more */
	double epoch_minus_mono;     /* wall clock minus monotonic clock, seconds */
	struct buf line;
	bool keep_order;             /* -k: records in input order (job->order) */
	unsigned long long next;     /* -k: the order of the next record to write */
	struct held *ring;           /* -k: ring[(head + k) % cap] is order next + k */
	size_t head, cap;
};

/* -k: a finished job's record, waiting for the records before it. */
struct held {
	char *p;                     /* NULL: not finished yet */
	size_t len;
};

/* A job's state: where its output goes (a tree) or the output itself (CSV, JSON). */
struct res_job {
	char *out, *err;             /* the files of stdout and stderr (a tree) */
	struct buf data[2];          /* stdout, stderr (CSV, JSON) */
};

static void failed(struct results *r, int err, const char *path)
{
	if (r->error)
		return;
	r->error = err;
	events_say(r->ev, MSG_ERROR, NULL, "cannot write the results '%s': %s; starting no more jobs", path,
		   strerror(-err));
	events_request_halt(r->ev);
}

static void put(struct results *r, const char *p, size_t len)
{
	int err = r->fd < 0 ? term_write(1, p, len) : write_full(r->fd, p, len);
	if (err)
		failed(r, err, r->name);
}

/* Makes every directory of path up to its last '/'. Returns 0 or -errno. */
static int make_dirs(const char *path)
{
	char *p = xstrdup(path);
	int err = 0;
	for (char *s = strchr(p + 1, '/'); s && !err; s = strchr(s + 1, '/')) {
		*s = '\0';
		if (mkdir(p, 0777) < 0 && errno != EEXIST)
			err = -errno;
		*s = '/';
	}
	free(p);
	return err;
}

static int write_file(const char *path, const char *data, size_t len, int flags)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC | flags, 0666);
	if (fd < 0)
		return -errno;
	int err = write_full(fd, data, len);
	if (close(fd) < 0 && !err)
		err = -errno;
	return err;
}

/* The sort of GNU parallel's header_indexes_sorted: by number, then by name. */
static int cmp_names(const char *a, const char *b)
{
	double x = strtod(a, NULL), y = strtod(b, NULL);
	return x < y ? -1 : x > y ? 1 : strcmp(a, b);
}

/* The directories of a job's args, GNU parallel's args_as_dirname: for
 * each input, each arg's name (--header's, else its number) and value,
 * with \ / tab and NUL written \\ \_ \t \0. */
static void add_arg_dirs(struct buf *b, const struct job *j, char *const *names, size_t nnames)
{
	const char *p = j->args;
	size_t a = 0;
	for (size_t k = 0; k < j->ninputs; k++) {
		size_t n = j->arg_end[k] - a, *order = xmalloc((n ? n : 1) * sizeof *order);
		const char **start = xmalloc((n ? n : 1) * sizeof *start);
		for (size_t i = 0; i < n; i++) {
			order[i] = i;
			start[i] = p;
			p += j->arg_lens[a + i];
		}
		/* Insertion sort: a job has a handful of columns. */
		for (size_t i = 1; names && i < n; i++)
			for (size_t m = i; m > 0 && m - 1 < nnames && order[m] < nnames &&
					   cmp_names(names[order[m]], names[order[m - 1]]) < 0;
			     m--) {
				size_t t = order[m];
				order[m] = order[m - 1];
				order[m - 1] = t;
			}
		for (size_t i = 0; i < n; i++) {
			size_t c = order[i];
			if (names && c < nnames)
				buf_addf(b, "/%s/", names[c]);
			else
				buf_addf(b, "/%zu/", c + 1);
			const char *v = start[c];
			for (size_t q = 0; q < j->arg_lens[a + c]; q++) {
				const char *esc = v[q] == '\\' ? "\\\\" : v[q] == '/' ? "\\_" : v[q] == '\t' ? "\\t"
						: v[q] == '\0' ? "\\0" : NULL;
				if (esc)
					buf_adds(b, esc);
				else
					buf_add(b, v + q, 1);
			}
		}
		a = j->arg_end[k];
		free(order);
		free(start);
	}
}

/* A tree: the job's files made empty and its seq written, as it starts. */
static void tree_start(struct results *r, struct job *j, struct res_job *rj)
{
	struct buf path;
	buf_init(&path);
	buf_adds(&path, r->name);
	const char *seq = "seq", *out = "stdout", *err = "stderr", *dir_sep = "/";
	if (r->name_tmpl) {
		const char **argv = xmalloc((j->nargs + 1) * sizeof *argv);
		const char *p = j->args;
		for (size_t i = 0; i < j->nargs; i++) {
			argv[i] = p;
			p += j->arg_lens[i];
		}
		struct tmpl_input in = {argv, j->arg_lens, j->nargs, j->seq, j->slot};
		buf_reset(&path);
		tmpl_expand_plain(r->name_tmpl, &in, &path);
		free(argv);
	}
	if (!r->name_tmpl || (path.len == strlen(r->name) && memcmp(path.p, r->name, path.len) == 0)) {
		add_arg_dirs(&path, j, r->names, r->nnames);
	} else if (path.len && path.p[path.len - 1] == '/') {
		dir_sep = "";
	} else {
		/* NAME made from the input: NAME, NAME.err and NAME.seq. */
		seq = ".seq", out = "", err = ".err", dir_sep = "";
	}
	buf_add(&path, "", 0);
	char *files[3];
	files[0] = xasprintf("%s%s%s", path.p, dir_sep, seq);
	files[1] = xasprintf("%s%s%s", path.p, dir_sep, out);
	files[2] = xasprintf("%s%s%s", path.p, dir_sep, err);
	buf_release(&path);
	char num[32];
	int n = snprintf(num, sizeof num, "%llu", j->seq);
	int e = make_dirs(files[0]);
	for (int i = 0; i < 3 && !e; i++)
		e = write_file(files[i], num, i ? 0 : (size_t)n, O_TRUNC);
	if (e)
		failed(r, e, files[0]);
	free(files[0]);
	free(rj->out);
	free(rj->err);
	rj->out = e ? NULL : files[1];
	rj->err = e ? NULL : files[2];
	if (e) {
		free(files[1]);
		free(files[2]);
	}
}

/* GNU parallel's combine_ref: a field in quotes, its quotes doubled, when
 * it holds a quote, a blank, the separator or a NUL. */
static void csv_field(struct results *r, const char *s, size_t n, bool first)
{
	if (!first)
		buf_add(&r->line, &r->sep, 1);
	bool quote = false;
	for (size_t i = 0; i < n && !quote; i++)
		quote = strchr("\" \t\n\r\f\v", s[i]) || s[i] == r->sep;
	if (!quote) {
		buf_add(&r->line, s, n);
		return;
	}
	buf_add(&r->line, "\"", 1);
	for (size_t i = 0; i < n; i++) {
		if (s[i] == '"')
			buf_add(&r->line, "\"", 1);
		buf_add(&r->line, s + i, 1);
	}
	buf_add(&r->line, "\"", 1);
}

/* GNU parallel's jsonquote: \ and " escaped, bytes below 32 as \u00XX. */
static void json_str(struct buf *b, const char *s, size_t n)
{
	buf_add(b, "\"", 1);
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c == '\\' || c == '"')
			buf_addf(b, "\\%c", c);
		else if (c < 32)
			buf_addf(b, "\\u%04x", c);
		else
			buf_add(b, s + i, 1);
	}
	buf_add(b, "\"", 1);
}

/* The record of a finished job: a CSV line (the header line first) or a JSON object. */
static void add_record(struct results *r, const struct job *j, struct res_job *rj)
{
	int exitval, sig;
	job_exit_fields(j, &exitval, &sig);
	double start = r->epoch_minus_mono + (double)j->start_ns / 1e9;
	double runtime = (double)(j->end_ns - j->start_ns) / 1e9;
	const char *cmd = j->cmd ? j->cmd : "";
	char num[128];
	if (r->kind == RES_JSON) {
		buf_addf(&r->line, "{ \"Seq\": %llu, \"Host\": \":\", \"Starttime\": %.3f, \"JobRuntime\": %.3f, ", j->seq,
			 start, runtime);
		buf_addf(&r->line, "\"Send\": 0, \"Receive\": %llu, \"Exitval\": %d, \"Signal\": %d, \"Command\": ",
			 j->out_bytes, exitval, sig);
		json_str(&r->line, cmd, strlen(cmd));
		buf_adds(&r->line, ", \"V\": [ ");
		const char *p = j->args;
		for (size_t i = 0; i < j->nargs; i++) {
			if (i)
				buf_add(&r->line, ",", 1);
			json_str(&r->line, p, j->arg_lens[i]);
			p += j->arg_lens[i];
		}
		buf_adds(&r->line, " ], \"Stdout\": ");
		json_str(&r->line, rj->data[0].p, rj->data[0].len);
		buf_adds(&r->line, ", \"Stderr\": ");
		json_str(&r->line, rj->data[1].p, rj->data[1].len);
		buf_adds(&r->line, " }\n");
		return;
	}
	if (!r->header_done) {
		r->header_done = true;
		static const char *const head[] = {"Seq", "Host", "Starttime", "JobRuntime", "Send",
						   "Receive", "Exitval", "Signal", "Command"};
		for (size_t i = 0; i < sizeof head / sizeof *head; i++)
			csv_field(r, head[i], strlen(head[i]), i == 0);
		for (size_t i = 0; i < j->nargs; i++) {
			const char *v = r->names && i < r->nnames ? r->names[i] : NULL;
			int n = v ? 0 : snprintf(num, sizeof num, "V%zu", i + 1);
			csv_field(r, v ? v : num, v ? strlen(v) : (size_t)n, false);
		}
		csv_field(r, "Stdout", 6, false);
		csv_field(r, "Stderr", 6, false);
		buf_add(&r->line, "\n", 1);
		/* First in the file, whichever record is first to be written. */
		put(r, r->line.p, r->line.len);
		buf_reset(&r->line);
	}
	int n = snprintf(num, sizeof num, "%llu", j->seq);
	csv_field(r, num, (size_t)n, true);
	csv_field(r, ":", 1, false);
	n = snprintf(num, sizeof num, "%.3f", start);
	csv_field(r, num, (size_t)n, false);
	n = snprintf(num, sizeof num, "%.3f", runtime);
	csv_field(r, num, (size_t)n, false);
	csv_field(r, "0", 1, false);
	n = snprintf(num, sizeof num, "%llu", j->out_bytes);
	csv_field(r, num, (size_t)n, false);
	n = snprintf(num, sizeof num, "%d", exitval);
	csv_field(r, num, (size_t)n, false);
	n = snprintf(num, sizeof num, "%d", sig);
	csv_field(r, num, (size_t)n, false);
	csv_field(r, cmd, strlen(cmd), false);
	const char *p = j->args;
	for (size_t i = 0; i < j->nargs; i++) {
		csv_field(r, p, j->arg_lens[i], false);
		p += j->arg_lens[i];
	}
	csv_field(r, rj->data[0].p, rj->data[0].len, false);
	csv_field(r, rj->data[1].p, rj->data[1].len, false);
	buf_add(&r->line, "\n", 1);
}

static void flush_held(struct results *r, bool all);

/* Writes the record in r->line, or with -k holds it until its turn. */
static void put_record(struct results *r, const struct job *j)
{
	if (!r->keep_order) {
		put(r, r->line.p, r->line.len);
		return;
	}
	unsigned long long k = j->order - r->next;
	while (k >= r->cap) {
		size_t cap = r->cap ? r->cap * 2 : 64;
		struct held *ring = xcalloc(cap, sizeof *ring);
		for (size_t i = 0; i < r->cap; i++)
			ring[i] = r->ring[(r->head + i) % r->cap];
		free(r->ring);
		r->ring = ring;
		r->cap = cap;
		r->head = 0;
	}
	struct held *h = &r->ring[(r->head + k) % r->cap];
	h->len = r->line.len;
	h->p = buf_take(&r->line);
	flush_held(r, false);
}

/* -k: writes the held records whose turn has come; at the end (all),
 * those after the jobs that never finished too. */
static void flush_held(struct results *r, bool all)
{
	for (size_t left = r->cap; r->cap && left; left--) {
		struct held *h = &r->ring[r->head];
		if (!h->p && !all)
			break;
		if (h->p && !r->error)
			put(r, h->p, h->len);
		free(h->p);
		h->p = NULL;
		r->head = (r->head + 1) % r->cap;
		r->next++;
	}
}

static void res_job_free(struct res_job *rj)
{
	if (!rj)
		return;
	free(rj->out);
	free(rj->err);
	buf_release(&rj->data[0]);
	buf_release(&rj->data[1]);
	free(rj);
}

static void on_event(struct sink *sink, const struct event *e)
{
	struct results *r = (struct results *)sink;
	struct job *j = e->job;
	if (e->type == EV_RUN_END)
		flush_held(r, true);
	if (!j || !j->id)
		return;
	struct res_job **slot = (struct res_job **)&j->sink_state[sink->slot];
	/* After a failed write nothing more is written; a job's state still goes at its end. */
	if (r->error && e->type != EV_FINISHED)
		return;
	switch (e->type) {
	case EV_STARTED:
		if (!*slot) {
			*slot = xcalloc(1, sizeof **slot);
			buf_init(&(*slot)->data[0]);
			buf_init(&(*slot)->data[1]);
		}
		if (r->kind == RES_TREE)
			tree_start(r, j, *slot);
		break;
	case EV_RETRY:
		if (*slot)
			buf_reset(&(*slot)->data[0]), buf_reset(&(*slot)->data[1]);
		break;
	case EV_OUTPUT: {
		struct res_job *rj = *slot;
		if (!rj || (e->stream != 1 && e->stream != 2))
			break;
		if (r->kind != RES_TREE) {
			buf_add(&rj->data[e->stream - 1], e->data, e->len);
			break;
		}
		const char *path = e->stream == 1 ? rj->out : rj->err;
		int err = path ? write_file(path, e->data, e->len, O_APPEND) : 0;
		if (err)
			failed(r, err, path);
		break;
	}
	case EV_FINISHED:
		if (*slot && r->kind != RES_TREE && !r->error) {
			buf_reset(&r->line);
			add_record(r, j, *slot);
			put_record(r, j);
		}
		res_job_free(*slot);
		*slot = NULL;
		break;
	default:
		break;
	}
}

static void release(struct sink *s)
{
	struct results *r = (struct results *)s;
	if (r->fd >= 0)
		close(r->fd);
	for (size_t i = 0; i < r->cap; i++)
		free(r->ring[i].p);
	free(r->ring);
	buf_release(&r->line);
	free(r);
}

static bool ends_with(const char *s, const char *end)
{
	size_t n = strlen(s), m = strlen(end);
	return n >= m && strcasecmp(s + n - m, end) == 0;
}

int results_sink_new(const char *name, const struct tmpl *name_tmpl, char *const *names, size_t nnames,
		     bool keep_order, struct events *ev, struct sink **out)
{
	enum results_kind kind = RES_TREE;
	char sep = ',';
	if (ends_with(name, ".csv"))
		kind = RES_CSV;
	else if (ends_with(name, ".tsv"))
		kind = RES_CSV, sep = '\t';
	else if (ends_with(name, ".json"))
		kind = RES_JSON;
	int fd = -1;
	bool to_stdout = strcmp(name, "-.csv") == 0 || strcmp(name, "-.tsv") == 0 || strcmp(name, "-.json") == 0;
	if (kind != RES_TREE && !to_stdout) {
		fd = open(name, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666);
		if (fd < 0)
			return -errno;
	}
	struct results *r = xcalloc(1, sizeof *r);
	r->sink.on_event = on_event;
	r->sink.release = release;
	r->kind = kind;
	r->name = name;
	r->name_tmpl = kind == RES_TREE ? name_tmpl : NULL;
	r->names = names;
	r->nnames = nnames;
	r->sep = sep;
	r->fd = fd;
	r->ev = ev;
	r->keep_order = keep_order;
	buf_init(&r->line);
	r->epoch_minus_mono = wall_minus_mono();
	*out = &r->sink;
	return 0;
}

int results_sink_error(const struct sink *s)
{
	return s ? ((const struct results *)s)->error : 0;
}
