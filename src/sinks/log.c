/* The sink for a run read as a log (CI, a pipe, a file): a line for each finished job in place of the status line, GitHub Actions' groups and annotations, and a "still running" line when a long wait prints nothing. */
#include "sinks.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../duration.h"
#include "../escape.h"
#include "../events.h"
#include "../outrules.h"
#include "../term.h"
#include "../util.h"

/* Rows of the GitHub job summary; the rest are counted. */
#define SUMMARY_ROWS 1000

struct row {
	char *name, *outcome;
	double secs;
	bool ok;
};

struct log_sink {
	struct sink sink;
	struct log_opts o;
	unsigned long long total, finished;
	size_t unlisted;          /* job sources that may still queue jobs: "[3/9+]" */
	struct job **running;     /* in start order */
	size_t nrunning, cap;
	uint64_t quiet_since;     /* when this sink, or a job's live output, last printed */
	bool group_open;          /* GitHub: a job's group, to close at the next event */
	struct row *rows;         /* GitHub: the job summary's */
	size_t nrows, rows_cap;
	unsigned long long more_rows;
	struct buf held;          /* lines of jobs found up to date, not written yet */
	int held_fd;
};

/* Lines of up-to-date jobs are held and written together, at the next
 * event that may make any sink print, at a tick, or when this many bytes
 * wait: a no-op run of 500 items makes one write, not 500. Every sink
 * that prints comes after this one, so nothing overtakes them. */
#define HOLD_BYTES 32768

static void flush(struct log_sink *ls)
{
	if (ls->held.len)
		term_write(ls->held_fd, ls->held.p, ls->held.len);
	buf_reset(&ls->held);
}

static void say(struct log_sink *ls, int fd, struct buf *b)
{
	flush(ls);
	term_write(fd, b->p, b->len);
	buf_release(b);
}

/* Whether e prints nothing in any sink but this one's held lines. */
static bool quiet_event(const struct event *e)
{
	switch (e->type) {
	case EV_QUEUED:
	case EV_EXPECT:
		return true;
	case EV_STARTED:
	case EV_FINISHED:
		return e->job && e->job->up_to_date;
	default:
		return false;
	}
}

/* GitHub's escapes for a command's message, and for its properties. */
static void add_gh(struct buf *b, const char *s, bool property)
{
	for (; *s; s++) {
		if (*s == '%')
			buf_adds(b, "%25");
		else if (*s == '\r')
			buf_adds(b, "%0D");
		else if (*s == '\n')
			buf_adds(b, "%0A");
		else if (property && *s == ':')
			buf_adds(b, "%3A");
		else if (property && *s == ',')
			buf_adds(b, "%2C");
		else
			buf_add(b, s, 1);
	}
}

/* A job's text as one line: control bytes escaped. */
static void add_line_text(struct buf *b, const char *s)
{
	escape_controls(b, s);
}

/* A failed job as an error annotation, and the places its error-format
 * found: errors when it failed, warnings when it did not. */
static void annotations(const struct job *j, struct buf *b)
{
	const char *level = j->result == JOB_OK ? "warning" : "error";
	if (j->result != JOB_OK) {
		char *why = job_outcome(j);
		buf_addf(b, "::error title=");
		add_gh(b, j->name, true);
		buf_adds(b, " failed::");
		add_gh(b, why, false);
		buf_adds(b, "\n");
		free(why);
	}
	for (size_t i = 0; j->check && i < j->check->nnotes; i++) {
		const struct annotation *a = &j->check->notes[i];
		buf_addf(b, "::%s file=", level);
		add_gh(b, a->file, true);
		if (a->line)
			buf_addf(b, ",line=%lu", a->line);
		if (a->col)
			buf_addf(b, ",col=%lu", a->col);
		buf_adds(b, ",title=");
		add_gh(b, j->name, true);
		buf_adds(b, "::");
		add_gh(b, a->message, false);
		buf_adds(b, "\n");
	}
}

static void keep_row(struct log_sink *ls, const struct job *j, const char *outcome, double secs)
{
	if (ls->nrows == SUMMARY_ROWS) {
		ls->more_rows++;
		return;
	}
	grow(&ls->rows, &ls->rows_cap, ls->nrows + 1, sizeof *ls->rows);
	struct row *r = &ls->rows[ls->nrows++];
	r->name = xstrdup(j->name ? j->name : "");
	r->outcome = xstrdup(outcome);
	r->secs = secs;
	r->ok = j->result == JOB_OK;
}

/* "weft: [3/9] NAME" of a job's line. A line per job: printf's cost
 * would be much of what a tiny job costs weft, so the numbers are put
 * together by hand. */
static void line_head(struct log_sink *ls, const struct job *j, struct buf *b)
{
	if (ls->o.style == LOG_LINES)
		buf_adds(b, "weft: ");
	buf_add(b, "[", 1);
	buf_add_uint(b, ls->finished);
	buf_add(b, "/", 1);
	buf_add_uint(b, ls->total);
	buf_adds(b, ls->unlisted ? "+] " : "] ");
	add_line_text(b, j->name ? j->name : "");
}

/* An up-to-date job's line, added to those held. */
static void held_line(struct log_sink *ls, const struct job *j)
{
	line_head(ls, j, &ls->held);
	buf_adds(&ls->held, ": up to date\n");
}

/* The line before a finished job's output (which the output sink prints
 * next): "[3/9] build: ok (1.20s)", or GitHub's group around it. */
static void finished(struct log_sink *ls, const struct job *j)
{
	ls->finished++;
	int fd = ls->o.style == LOG_CI ? 1 : 2;
	if (ls->o.style != LOG_GITHUB && j->up_to_date && (!ls->held.len || ls->held_fd == fd)) {
		/* Put together where it is held (a no-op run makes hundreds). */
		held_line(ls, j);
		ls->held_fd = fd;
		if (ls->held.len >= HOLD_BYTES)
			flush(ls);
		return;
	}
	char *outcome = job_outcome(j);
	double secs = j->end_ns > j->start_ns && !j->up_to_date ? (double)(j->end_ns - j->start_ns) / 1e9 : 0;
	struct buf b;
	buf_init(&b);
	if (ls->o.style == LOG_GITHUB) {
		keep_row(ls, j, outcome, secs);
		buf_adds(&b, "::group::");
		add_line_text(&b, j->name ? j->name : "");
		buf_addf(&b, ": %s (%.2fs)\n", outcome, secs);
		annotations(j, &b);
		say(ls, 1, &b);
		/* Closed once the output sink has printed the job's output: at
		 * the next event. */
		ls->group_open = true;
	} else {
		line_head(ls, j, &b);
		if (j->up_to_date) {
			buf_adds(&b, ": up to date\n");
		} else {
			/* Hundredths of a second, rounded as %.2f rounds them. */
			uint64_t ns = j->end_ns > j->start_ns ? j->end_ns - j->start_ns : 0;
			uint64_t cs = (ns + 5000000) / 10000000;
			char frac[4] = {'.', (char)('0' + cs / 10 % 10), (char)('0' + cs % 10), 0};
			buf_adds(&b, ": ");
			buf_adds(&b, outcome);
			buf_adds(&b, " (");
			buf_add_uint(&b, cs / 100);
			buf_adds(&b, frac);
			buf_adds(&b, "s)\n");
		}
		say(ls, fd, &b);
	}
	free(outcome);
}

/* "weft: still running: a, b (5m)": nothing was printed for a while. */
static void still_running(struct log_sink *ls, uint64_t now)
{
	struct buf b;
	buf_init(&b);
	buf_adds(&b, "weft: still running: ");
	uint64_t oldest = now;
	for (size_t i = 0; i < ls->nrunning; i++) {
		if (i == 10) {
			buf_addf(&b, ", and %zu more", ls->nrunning - i);
			break;
		}
		buf_adds(&b, i ? ", " : "");
		add_line_text(&b, ls->running[i]->name ? ls->running[i]->name : "");
		if (ls->running[i]->start_ns < oldest)
			oldest = ls->running[i]->start_ns;
	}
	char d[64];
	duration_format((now - oldest) / 1000000 / 1000 * 1000, d, sizeof d);
	buf_addf(&b, " (%s)\n", d);
	say(ls, ls->o.style == LOG_LINES ? 2 : 1, &b);
}

/* The GitHub job summary: a Markdown table appended to $GITHUB_STEP_SUMMARY. */
static void step_summary(struct log_sink *ls, const struct run_info *run)
{
	const char *path = getenv("GITHUB_STEP_SUMMARY");
	if (!path || !*path)
		return;
	struct buf b;
	buf_init(&b);
	buf_addf(&b, "### weft: %llu ok, %llu failed, %llu not started\n\n| task | result | time |\n|---|---|---:|\n",
		 run->ok, run->failed, run->skipped);
	for (size_t i = 0; i < ls->nrows; i++) {
		const struct row *r = &ls->rows[i];
		buf_adds(&b, "| ");
		for (const char *p = r->name; *p; p++)
			buf_adds(&b, *p == '|' ? "\\|" : (char[]){*p, 0});
		buf_addf(&b, " | %s ", r->ok ? "✅" : "❌");
		for (const char *p = r->outcome; *p; p++)
			buf_adds(&b, *p == '|' ? "\\|" : *p == '\n' ? " " : (char[]){*p, 0});
		buf_addf(&b, " | %.2fs |\n", r->secs);
	}
	if (ls->more_rows)
		buf_addf(&b, "\n%llu more jobs are not listed.\n", ls->more_rows);
	int fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
	int err = fd < 0 ? -errno : write_full(fd, b.p, b.len);
	if (fd >= 0 && close(fd) < 0 && !err)
		err = -errno;
	if (err) {
		struct buf m;
		buf_init(&m);
		buf_addf(&m, "weft: warning: cannot write the job summary to '%s': %s\n", path, strerror(-err));
		say(ls, 2, &m);
	}
	buf_release(&b);
}

static void running_remove(struct log_sink *ls, const struct job *j)
{
	for (size_t i = 0; i < ls->nrunning; i++)
		if (ls->running[i] == j) {
			memmove(&ls->running[i], &ls->running[i + 1], (ls->nrunning - i - 1) * sizeof *ls->running);
			ls->nrunning--;
			return;
		}
}

static void on_event(struct sink *sink, const struct event *e)
{
	struct log_sink *ls = (struct log_sink *)sink;
	if (!quiet_event(e))
		flush(ls);
	if (ls->group_open) {
		struct buf b;
		buf_init(&b);
		buf_adds(&b, "::endgroup::\n");
		say(ls, 1, &b);
		ls->group_open = false;
	}
	const struct job *j = e->job;
	if (j && !j->id && e->type != EV_MESSAGE)
		return; /* hidden */
	if (term.quiet && ls->o.style == LOG_LINES) {
		buf_reset(&ls->held);
		return; /* weft | head: the reader has gone, and so do we, quietly */
	}
	switch (e->type) {
	case EV_RUN_START:
		ls->quiet_since = e->at_ns;
		break;
	case EV_QUEUED:
		ls->total++;
		break;
	case EV_EXPECT:
		ls->unlisted = e->len;
		break;
	case EV_STARTED:
		grow(&ls->running, &ls->cap, ls->nrunning + 1, sizeof *ls->running);
		ls->running[ls->nrunning++] = e->job;
		break;
	case EV_OUTPUT:
		if (ls->o.live_output)
			ls->quiet_since = e->at_ns;
		break;
	case EV_MESSAGE:
		ls->quiet_since = e->at_ns;
		break;
	case EV_FINISHED:
		running_remove(ls, j);
		finished(ls, j);
		ls->quiet_since = e->at_ns;
		break;
	case EV_TICK:
		if (ls->o.heartbeat_ms && ls->nrunning && e->at_ns - ls->quiet_since >= ls->o.heartbeat_ms * 1000000) {
			still_running(ls, e->at_ns);
			ls->quiet_since = e->at_ns;
		}
		break;
	case EV_RUN_END:
		if (ls->o.style == LOG_GITHUB)
			step_summary(ls, e->run);
		break;
	default:
		break;
	}
}

static void release(struct sink *sink)
{
	struct log_sink *ls = (struct log_sink *)sink;
	for (size_t i = 0; i < ls->nrows; i++) {
		free(ls->rows[i].name);
		free(ls->rows[i].outcome);
	}
	free(ls->rows);
	free(ls->running);
	flush(ls);
	buf_release(&ls->held);
	free(ls);
}

struct sink *log_sink_new(const struct log_opts *o)
{
	struct log_sink *ls = xcalloc(1, sizeof *ls);
	ls->sink.on_event = on_event;
	ls->sink.release = release;
	ls->o = *o;
	buf_init(&ls->held);
	ls->quiet_since = now_ns();
	return &ls->sink;
}
