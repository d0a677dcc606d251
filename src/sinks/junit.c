/* The sink that writes a JUnit XML report (--junit=FILE): one testcase per job, with its result, time, captures and output. */
#include "sinks.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../events.h"
#include "../outrules.h"
#include "../util.h"

/* Each stream of a job keeps at most its last this many bytes. */
#define JUNIT_KEEP (1u << 20)
/* A failure's text: the last lines of its output, at most this many bytes. */
#define JUNIT_TAIL 4096

/*
 * Finished jobs are written to a temporary file next to FILE as they
 * come, so that memory holds only the running jobs' output; at the end
 * the totals, that body and the closing tags go to another temporary
 * file, renamed to FILE: a run killed half-way leaves no half report.
 */
struct junit_sink {
	struct sink sink;
	char *path, *body_path, *suite;
	FILE *body;
	int error;                /* -errno of the first failure; then nothing more is written */
	unsigned long long tests, failures, errors, skipped;
	double time;
	uint64_t start_ns;
};

/* What a job printed, its tail only. */
struct junit_job {
	struct buf out[2];
};

static void keep_tail(struct buf *b, const char *data, size_t len, size_t keep)
{
	if (len >= keep) {
		buf_reset(b);
		buf_add(b, data + len - keep, keep);
		return;
	}
	buf_add(b, data, len);
	if (b->len > 2 * keep) {
		memmove(b->p, b->p + b->len - keep, keep);
		b->len = keep;
		b->p[keep] = '\0';
	}
}

/* The length of the UTF-8 character at s (at most n bytes) if it is one
 * XML 1.0 allows in text, else 0. */
static size_t xml_char(const unsigned char *s, size_t n)
{
	if (s[0] < 0x20)
		return s[0] == '\t' || s[0] == '\n' || s[0] == '\r' ? 1 : 0;
	size_t len = utf8_len(s, n);
	/* U+FFFE and U+FFFF are not characters either. */
	if (len == 3 && s[0] == 0xef && s[1] == 0xbf && s[2] >= 0xbe)
		return 0;
	return len;
}

/* Text as XML character data or an attribute value: markup escaped, and
 * each byte XML cannot hold (control bytes, invalid UTF-8) as U+FFFD. */
static void add_xml(struct buf *b, const char *s, size_t n)
{
	const unsigned char *p = (const unsigned char *)s;
	while (n) {
		size_t k = xml_char(p, n);
		if (!k) {
			buf_adds(b, "\xef\xbf\xbd");
			k = 1;
		} else if (*p == '&')
			buf_adds(b, "&amp;");
		else if (*p == '<')
			buf_adds(b, "&lt;");
		else if (*p == '>')
			buf_adds(b, "&gt;");
		else if (*p == '"')
			buf_adds(b, "&quot;");
		else if (*p == '\n' || *p == '\r' || *p == '\t')
			buf_addf(b, "&#%d;", *p); /* kept as they are, in attributes too */
		else
			buf_add(b, p, k);
		p += k;
		n -= k;
	}
}

static void add_xmls(struct buf *b, const char *s)
{
	add_xml(b, s, strlen(s));
}

/* Text content: newlines as they are, for readable reports. */
static void add_text(struct buf *b, const char *s, size_t n)
{
	while (n) {
		const char *nl = memchr(s, '\n', n);
		size_t k = nl ? (size_t)(nl - s) : n;
		add_xml(b, s, k);
		if (nl) {
			buf_add(b, "\n", 1);
			k++;
		}
		s += k;
		n -= k;
	}
}

/* The last lines of a job's output (stdout, then stderr), at most JUNIT_TAIL bytes. */
static void add_tail(struct buf *b, const struct junit_job *jj)
{
	for (int s = 0; s < 2; s++) {
		const struct buf *o = &jj->out[s];
		size_t n = o->len < JUNIT_TAIL ? o->len : JUNIT_TAIL;
		const char *p = o->p + o->len - n;
		if (n < o->len) {
			const char *nl = memchr(p, '\n', n);
			if (nl && nl + 1 < p + n) {
				n -= (size_t)(nl + 1 - p);
				p = nl + 1;
			}
		}
		if (n)
			add_text(b, p, n);
	}
}

static void add_properties(struct buf *b, const struct job *j)
{
	bool any = j->up_to_date || (j->check && j->check->ncaptures);
	if (!any)
		return;
	buf_adds(b, "      <properties>\n");
	if (j->up_to_date)
		buf_adds(b, "        <property name=\"up-to-date\" value=\"true\"/>\n");
	for (size_t i = 0; j->check && i < j->check->ncaptures; i++) {
		buf_adds(b, "        <property name=\"");
		add_xmls(b, j->check->captures[i].name);
		buf_adds(b, "\" value=\"");
		add_xmls(b, j->check->captures[i].value);
		buf_adds(b, "\"/>\n");
	}
	buf_adds(b, "      </properties>\n");
}

static void testcase(struct junit_sink *s, const struct job *j, const char *skipped_why)
{
	struct junit_job *jj = j->sink_state[s->sink.slot];
	struct buf b;
	buf_init(&b);
	double secs = !skipped_why && j->end_ns > j->start_ns ? (double)(j->end_ns - j->start_ns) / 1e9 : 0;
	s->tests++;
	s->time += secs;
	buf_adds(&b, "    <testcase name=\"");
	add_xmls(&b, j->name ? j->name : "");
	buf_adds(&b, "\" classname=\"");
	add_xmls(&b, s->suite);
	buf_addf(&b, "\" time=\"%.3f\">\n", secs);
	if (!skipped_why)
		add_properties(&b, j);
	if (skipped_why) {
		s->skipped++;
		buf_adds(&b, "      <skipped message=\"");
		add_xmls(&b, skipped_why);
		buf_adds(&b, "\"/>\n");
	} else if (j->result != JOB_OK) {
		const char *tag = j->result == JOB_SPAWN_ERROR ? "error" : "failure";
		if (*tag == 'e')
			s->errors++;
		else
			s->failures++;
		char *why = job_outcome(j);
		buf_addf(&b, "      <%s message=\"", tag);
		add_xmls(&b, why);
		buf_adds(&b, "\" type=\"");
		add_xmls(&b, j->result == JOB_RULE ? "rule" : j->result == JOB_TIMEOUT ? "timeout"
							      : j->result == JOB_SIGNAL	     ? "signal"
							      : j->result == JOB_EXIT	     ? "exit"
											     : "spawn-error");
		buf_adds(&b, "\">");
		if (jj)
			add_tail(&b, jj);
		buf_addf(&b, "</%s>\n", tag);
		free(why);
	}
	static const char *const stream_tags[2] = {"system-out", "system-err"};
	for (int k = 0; jj && k < 2; k++)
		if (jj->out[k].len) {
			buf_addf(&b, "      <%s>", stream_tags[k]);
			add_text(&b, jj->out[k].p, jj->out[k].len);
			buf_addf(&b, "</%s>\n", stream_tags[k]);
		}
	buf_adds(&b, "    </testcase>\n");
	if (fwrite(b.p, 1, b.len, s->body) != b.len && !s->error)
		s->error = -(errno ? errno : EIO);
	buf_release(&b);
}

static void job_release(struct junit_sink *s, struct job *j)
{
	struct junit_job *jj = j->sink_state[s->sink.slot];
	if (!jj)
		return;
	buf_release(&jj->out[0]);
	buf_release(&jj->out[1]);
	free(jj);
	j->sink_state[s->sink.slot] = NULL;
}

static void on_event(struct sink *sink, const struct event *e)
{
	struct junit_sink *s = (struct junit_sink *)sink;
	struct job *j = e->job;
	if (j && !j->id)
		return; /* hidden */
	switch (e->type) {
	case EV_RUN_START:
		s->start_ns = e->at_ns;
		break;
	case EV_OUTPUT: {
		struct junit_job *jj = j->sink_state[sink->slot];
		if (!jj)
			jj = j->sink_state[sink->slot] = xcalloc(1, sizeof *jj);
		keep_tail(&jj->out[e->stream == 2], e->data, e->len, JUNIT_KEEP);
		break;
	}
	case EV_RETRY:
		job_release(s, j);
		break;
	case EV_FINISHED:
		if (!s->error)
			testcase(s, j, NULL);
		job_release(s, j);
		break;
	case EV_SKIPPED:
		if (!s->error)
			testcase(s, j, e->len ? e->data : "not started");
		job_release(s, j);
		break;
	default:
		break;
	}
}

static void release(struct sink *sink)
{
	struct junit_sink *s = (struct junit_sink *)sink;
	if (s->body)
		fclose(s->body);
	unlink(s->body_path);
	free(s->path);
	free(s->body_path);
	free(s->suite);
	free(s);
}

int junit_sink_new(const char *path, const char *suite, struct sink **out)
{
	struct junit_sink *s = xcalloc(1, sizeof *s);
	s->sink.on_event = on_event;
	s->sink.release = release;
	s->path = xstrdup(path);
	s->suite = xstrdup(suite);
	s->body_path = xasprintf("%s.body.%ld", path, (long)getpid());
	int fd = open(s->body_path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0 || !(s->body = fdopen(fd, "w+"))) {
		int err = -errno;
		if (fd >= 0)
			close(fd);
		free(s->path);
		free(s->body_path);
		free(s->suite);
		free(s);
		return err;
	}
	*out = &s->sink;
	return 0;
}

static int write_report(struct junit_sink *s, FILE *f)
{
	struct buf b;
	buf_init(&b);
	double wall = s->start_ns ? (double)(now_ns() - s->start_ns) / 1e9 : 0;
	buf_adds(&b, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites name=\"weft\"");
	buf_addf(&b, " tests=\"%llu\" failures=\"%llu\" errors=\"%llu\" skipped=\"%llu\" time=\"%.3f\">\n", s->tests,
		 s->failures, s->errors, s->skipped, wall);
	buf_adds(&b, "  <testsuite name=\"");
	add_xmls(&b, s->suite);
	buf_addf(&b, "\" tests=\"%llu\" failures=\"%llu\" errors=\"%llu\" skipped=\"%llu\" time=\"%.3f\">\n", s->tests,
		 s->failures, s->errors, s->skipped, wall);
	bool ok = fwrite(b.p, 1, b.len, f) == b.len;
	buf_release(&b);
	char chunk[65536];
	size_t n;
	rewind(s->body);
	while (ok && (n = fread(chunk, 1, sizeof chunk, s->body)) > 0)
		ok = fwrite(chunk, 1, n, f) == n;
	ok = ok && !ferror(s->body) && fputs("  </testsuite>\n</testsuites>\n", f) >= 0;
	ok = fflush(f) == 0 && ok;
	return ok ? 0 : -(errno ? errno : EIO);
}

int junit_sink_finish(struct sink *sink)
{
	struct junit_sink *s = (struct junit_sink *)sink;
	if (!s->error && fflush(s->body) != 0)
		s->error = -(errno ? errno : EIO);
	if (s->error)
		return s->error;
	char *tmp = xasprintf("%s.tmp.%ld", s->path, (long)getpid());
	int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0644);
	FILE *f = fd >= 0 ? fdopen(fd, "w") : NULL;
	int err = f ? write_report(s, f) : -errno;
	if (!f && fd >= 0)
		close(fd);
	if (f && fclose(f) != 0 && !err)
		err = -errno;
	if (!err && rename(tmp, s->path) < 0)
		err = -errno;
	if (err)
		unlink(tmp);
	free(tmp);
	return s->error = err;
}
