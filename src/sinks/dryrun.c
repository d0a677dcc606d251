/* The sink of a dry run (weft -n): each job that would run, as a line for sh, so that weft -n | sh does the run (with -k, going on past failures); --explain's reasons as comments, other messages on stderr. */
#include "sinks.h"

#include <stdlib.h>
#include <string.h>

#include "../cmdline.h"
#include "../events.h"
#include "../graph.h"
#include "../quote.h"
#include "../term.h"
#include "../util.h"

struct dryrun_sink {
	struct sink sink;
	struct dryrun_opts o;
	bool began;     /* the "set -e" and exports are out */
	struct buf line;
};

/* Whether a list after l sets name too, which wins. */
static bool set_later(const struct dryrun_sink *d, size_t l, const char *name)
{
	for (size_t k = l + 1; k < d->o.nlists; k++)
		for (size_t i = 0; i < d->o.nvars[k]; i++)
			if (strcmp(d->o.vars[k][i].name, name) == 0)
				return true;
	return false;
}

/* What every command needs before the first one: stop at the first
 * failure, as weft does (with -k: count failures), and the variables the
 * recipe and the command line export, as weft exports them. */
static void begin(struct dryrun_sink *d)
{
	buf_adds(&d->line, d->o.keep_going ? "weft_failed=0\n" : "set -e\n");
	for (size_t l = 0; l < d->o.nlists; l++)
		for (size_t i = 0; i < d->o.nvars[l]; i++) {
			if (set_later(d, l, d->o.vars[l][i].name))
				continue;
			buf_addf(&d->line, "export %s=", d->o.vars[l][i].name);
			shell_quote(&d->line, d->o.vars[l][i].value, strlen(d->o.vars[l][i].value));
			buf_adds(&d->line, "\n");
		}
	d->began = true;
}

/* With -k, a job's line as weft -k runs it: skipped when a task it
 * depends on failed or was skipped, and its failure marked for its task
 * (weft_fN, N the task's index) and for the script's exit status. A
 * rendered command is one simple command or subshell, so || binds to
 * all of it. */
static void keep_going_line(struct buf *b, const struct task *t, const struct buf *cmd)
{
	bool guarded = false;
	for (size_t i = 0; i < t->ndeps; i++) {
		if (!t->deps[i])
			continue;
		buf_addf(b, "%s${weft_f%zu-}", guarded ? "" : "if [ -z \"", t->deps[i]->index);
		guarded = true;
	}
	if (guarded)
		buf_addf(b, "\" ]; then ");
	buf_add(b, cmd->p, cmd->len);
	buf_addf(b, " || { weft_failed=1; weft_f%zu=1; }", t->index);
	if (guarded)
		buf_addf(b, "; else weft_f%zu=1; fi", t->index);
}

static void on_event(struct sink *sink, const struct event *ev)
{
	struct dryrun_sink *d = (struct dryrun_sink *)sink;
	buf_reset(&d->line);
	if (ev->type == EV_STARTED && !ev->job->decided) {
		struct buf cmd;
		buf_init(&cmd);
		struct cmdline_opts co = {d->o.shell, d->o.overrides, d->o.noverrides};
		if (cmdline_render(&cmd, ev->job, &co)) {
			if (!d->began)
				begin(d);
			if (d->o.keep_going)
				keep_going_line(&d->line, ev->job->task, &cmd);
			else
				buf_add(&d->line, cmd.p, cmd.len);
			buf_adds(&d->line, "\n");
			term_write(1, d->line.p, d->line.len);
		}
		buf_release(&cmd);
	} else if (ev->type == EV_RUN_END && d->o.keep_going && d->began) {
		/* The script fails when a command failed, as weft -k does. */
		buf_adds(&d->line, "exit \"$weft_failed\"\n");
		term_write(1, d->line.p, d->line.len);
	} else if (ev->type == EV_MESSAGE) {
		/* A reason stays a comment, whatever bytes it holds. */
		if (ev->level == MSG_INFO) {
			buf_adds(&d->line, "# ");
			for (size_t i = 0; i < ev->len; i++) {
				if (ev->data[i] == '\n')
					buf_adds(&d->line, "\n# ");
				else
					buf_add(&d->line, &ev->data[i], 1);
			}
			buf_adds(&d->line, "\n");
			term_write(1, d->line.p, d->line.len);
		} else {
			buf_addf(&d->line, "weft: %s", ev->level == MSG_WARNING ? "warning: " : "");
			buf_add(&d->line, ev->data, ev->len);
			buf_adds(&d->line, "\n");
			term_write(2, d->line.p, d->line.len);
		}
	}
}

static void release(struct sink *s)
{
	struct dryrun_sink *d = (struct dryrun_sink *)s;
	buf_release(&d->line);
	free(d);
}

struct sink *dryrun_sink_new(const struct dryrun_opts *o)
{
	struct dryrun_sink *d = xcalloc(1, sizeof *d);
	d->sink.on_event = on_event;
	d->sink.release = release;
	d->o = *o;
	buf_init(&d->line);
	return &d->sink;
}
