/* The sink that reports failures as they happen and the totals at the end. */
#include "sinks.h"

#include <stdio.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "../cmdline.h"
#include "../duration.h"
#include "../events.h"
#include "../outrules.h"
#include "../term.h"
#include "../util.h"

struct summary_sink {
	struct sink sink;
	enum summary_style style;
	uint64_t start_ns;
	size_t done, failed, skipped, stopped, fresh;
	struct buf captures;      /* "weft: NAME: k=v k=v" lines, for the end */
};

static void say(const char *fmt, const char *name, const char *detail)
{
	char *msg = xasprintf(fmt, name, detail);
	term_write(2, msg, strlen(msg));
	free(msg);
}

static void report_failure(const struct job *j)
{
	char detail[128];
	switch (j->result) {
	case JOB_EXIT:
		snprintf(detail, sizeof detail, "%d", j->exit_code);
		say("weft: task '%s' failed (exit %s)\n", j->name, detail);
		break;
	case JOB_SIGNAL: {
		const char *abbrev = sigabbrev_np(j->term_signal);
		snprintf(detail, sizeof detail, "SIG%s", abbrev ? abbrev : "?");
		if (!abbrev)
			snprintf(detail, sizeof detail, "signal %d", j->term_signal);
		say("weft: task '%s' killed by %s\n", j->name, detail);
		break;
	}
	case JOB_TIMEOUT:
		duration_format(j->timeout_ms, detail, sizeof detail);
		say("weft: task '%s' timed out after %s\n", j->name, detail);
		break;
	case JOB_SPAWN_ERROR: {
		/* The usual cause of a task that cannot start at all: its dir. */
		struct stat st;
		int derr = !j->dir ? 0 : stat(j->dir, &st) < 0 ? errno : !S_ISDIR(st.st_mode) ? ENOTDIR : 0;
		if (derr) {
			char *why = xasprintf("its dir '%s': %s", j->dir, strerror(derr));
			say("weft: cannot start task '%s': %s\n", j->name, why);
			free(why);
		} else
			say("weft: cannot start task '%s': %s\n", j->name, strerror(-j->spawn_error));
		break;
	}
	case JOB_RULE:
		say("weft: task '%s' failed: %s\n", j->name, j->check->why);
		break;
	default:
		return;
	}
	/* What ran, as ninja's FAILED: does: a script shows its first line.
	 * A job that failed before anything ran (decided) has no command. */
	struct buf cmd;
	buf_init(&cmd);
	if (!j->decided && cmdline_brief(&cmd, j)) {
		buf_add(&cmd, "", 1);
		say("weft: %s: %s\n", "command", cmd.p);
	}
	buf_release(&cmd);
}

/* The values an output rule captured, as one line for the end. */
static void keep_captures(struct summary_sink *s, const struct job *j)
{
	if (!j->check || !j->check->ncaptures)
		return;
	buf_addf(&s->captures, "weft: %s:", j->name);
	for (size_t i = 0; i < j->check->ncaptures; i++)
		buf_addf(&s->captures, " %s=%s", j->check->captures[i].name, j->check->captures[i].value);
	buf_adds(&s->captures, "\n");
}

/* weft exec says what GNU parallel says of a job that timed out or could
 * not start; its failures otherwise show in the exit status. */
static void report_exec(const struct job *j)
{
	char *msg = NULL;
	if (j->result == JOB_TIMEOUT)
		msg = xasprintf("weft exec: warning: this job was killed because it timed out:\n%s\n", j->cmd);
	else if (j->result == JOB_SPAWN_ERROR)
		msg = xasprintf("weft exec: cannot start job %llu: %s\n", j->seq, strerror(-j->spawn_error));
	if (msg)
		term_write(2, msg, strlen(msg));
	free(msg);
}

static void on_event(struct sink *sink, const struct event *ev)
{
	struct summary_sink *s = (struct summary_sink *)sink;
	if (s->style == SUMMARY_EXEC) {
		if (ev->type == EV_FINISHED)
			report_exec(ev->job);
		return;
	}
	switch (ev->type) {
	case EV_RUN_START:
		s->start_ns = ev->at_ns;
		break;
	case EV_FINISHED:
		keep_captures(s, ev->job);
		if (ev->job->result == JOB_OK) {
			s->done++;
			s->fresh += ev->job->up_to_date;
		} else if (ev->job->interrupted && ev->job->result == JOB_SIGNAL) {
			s->stopped++; /* weft stopped it: not the job's own failure */
		} else {
			s->failed++;
			if (!term.quiet)
				report_failure(ev->job);
		}
		break;
	case EV_SKIPPED:
		s->skipped++;
		break;
	case EV_RUN_END: {
		if (term.quiet)
			break; /* weft | head: the reader has gone, and so do we, quietly */
		if (s->captures.len)
			term_write(2, s->captures.p, s->captures.len);
		double secs = (double)(now_ns() - s->start_ns) / 1e9;
		char *msg;
		if (ev->run->signal) {
			const char *name = sigabbrev_np(ev->run->signal);
			msg = xasprintf("weft: interrupted by SIG%s: %zu done, %zu failed, %zu stopped, %zu not started in "
					"%.2fs\n",
					name ? name : "?", s->done, s->failed, s->stopped, s->skipped, secs);
		} else if (!s->failed && !s->skipped && s->fresh)
			msg = xasprintf("weft: %zu task%s done in %.2fs (%zu up to date)\n", s->done, s->done == 1 ? "" : "s",
					secs, s->fresh);
		else if (!s->failed && !s->skipped)
			msg = xasprintf("weft: %zu task%s done in %.2fs\n", s->done, s->done == 1 ? "" : "s", secs);
		else
			msg = xasprintf("weft: %zu done, %zu failed, %zu not started in %.2fs\n", s->done, s->failed,
					s->skipped, secs);
		term_write(2, msg, strlen(msg));
		free(msg);
		break;
	}
	default:
		break;
	}
}

static void release(struct sink *sink)
{
	struct summary_sink *s = (struct summary_sink *)sink;
	buf_release(&s->captures);
	free(s);
}

struct sink *summary_sink_new(enum summary_style style)
{
	struct summary_sink *s = xcalloc(1, sizeof *s);
	s->sink.on_event = on_event;
	s->sink.release = release;
	s->style = style;
	s->start_ns = now_ns();
	return &s->sink;
}
