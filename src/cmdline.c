/* A job's command written as one line that a POSIX shell runs to the same effect: weft -n's output and the command a failure line shows. */
#include "cmdline.h"

#include <stdlib.h>
#include <string.h>

#include "escape.h"
#include "events.h"
#include "graph.h"
#include "quote.h"
#include "step.h"
#include "util.h"

#define CMDLINE_BRIEF_MAX 1000

static void quoted(struct buf *b, const char *s)
{
	shell_quote(b, s, strlen(s));
}

/* Whether cmd, read by the shell that reads weft -n's output (under set
 * -e), does what "sh -c CMD NAME" does: one command or pipeline that
 * changes nothing in that shell, does not read $0, and fails when its
 * last command fails. Anything else is run by a shell of its own. */
static bool plain(const char *cmd, bool env)
{
	static const char *const changes_shell[] = {
		".", ":", "alias", "bg", "break", "case", "cd", "command", "continue", "eval", "exec", "exit",
		"export", "fg", "for", "function", "getopts", "hash", "if", "jobs", "local", "read", "readonly",
		"return", "select", "set", "shift", "source", "times", "trap", "type", "ulimit", "umask", "unalias",
		"unset", "until", "wait", "while", "{", "!", "[[", NULL,
	};
	if (strpbrk(cmd, ";&\n\r#(){}`") || strstr(cmd, "||") || strstr(cmd, "<<") || strstr(cmd, "$0") ||
	    strstr(cmd, "${0") || (env && strchr(cmd, '$')))
		return false;
	cmd += strspn(cmd, " \t");
	size_t n = strcspn(cmd, " \t");
	if (!n || memchr(cmd, '=', n) || memchr(cmd, '\'', n) || memchr(cmd, '"', n) || memchr(cmd, '\\', n) ||
	    memchr(cmd, '$', n))
		return false;
	for (const char *const *w = changes_shell; *w; w++)
		if (strlen(*w) == n && memcmp(cmd, *w, n) == 0)
			return false;
	return true;
}

/* Whether the command line sets name, so the task's env.NAME loses. */
static bool overridden(const struct cmdline_opts *o, const char *name)
{
	for (size_t i = 0; i < o->noverrides; i++)
		if (strcmp(o->overrides[i].name, name) == 0)
			return true;
	return false;
}

bool cmdline_render(struct buf *b, const struct job *j, const struct cmdline_opts *o)
{
	if (!j->step && (!j->cmd || !*j->cmd))
		return false;
	if (j->step && !j->step->shell)
		return false;
	const struct task *t = j->task;
	if (j->dir) {
		buf_adds(b, "(cd ");
		quoted(b, j->dir);
		buf_adds(b, " && ");
	}
	if (j->step) {
		j->step->shell(j->step_argc, j->step_argv, b);
	} else {
		bool env = false;
		for (size_t i = 0; t && i < t->nenv; i++) {
			if (overridden(o, t->env[i].name))
				continue;
			buf_addf(b, "%s=", t->env[i].name);
			quoted(b, t->env[i].value);
			buf_adds(b, " ");
			env = true;
		}
		if (!o->shell && j->cmd_lines <= 1 && plain(j->cmd, env)) {
			buf_adds(b, j->cmd);
		} else {
			char **words = split_blanks(o->shell ? o->shell : "/bin/sh", NULL);
			for (char **w = words; *w; w++) {
				quoted(b, *w);
				buf_adds(b, " ");
			}
			free_words(words);
			buf_adds(b, j->cmd_lines > 1 ? "-e -c " : "-c ");
			quoted(b, j->cmd);
			buf_adds(b, " ");
			quoted(b, t ? j->name : "sh");
		}
	}
	if (j->dir)
		buf_adds(b, ")");
	return true;
}

bool cmdline_brief(struct buf *b, const struct job *j)
{
	if (!j->step && (!j->cmd || !*j->cmd))
		return false;
	if (j->dir) {
		buf_adds(b, "cd ");
		escape_controls(b, j->dir);
		buf_adds(b, " && ");
	}
	if (j->step) {
		for (int i = 0; i < j->step_argc; i++) {
			buf_adds(b, i ? " " : "step ");
			escape_controls(b, j->step_argv[i]);
		}
		return true;
	}
	const char *nl = strchr(j->cmd, '\n');
	size_t len = nl ? (size_t)(nl - j->cmd) : strlen(j->cmd);
	/* A generated line of a megabyte would bury the message. */
	size_t shown = len > CMDLINE_BRIEF_MAX ? CMDLINE_BRIEF_MAX : len;
	char *first = xstrndup(j->cmd, shown);
	escape_controls(b, first);
	free(first);
	if (shown < len)
		buf_addf(b, " ... (%zu more bytes)", len - shown);
	if (nl) {
		size_t more = 0;
		for (const char *p = nl; p; p = strchr(p + 1, '\n'))
			more += p[1] != '\0';
		if (more)
			buf_addf(b, " ... (%zu more line%s)", more, more == 1 ? "" : "s");
	}
	return true;
}
