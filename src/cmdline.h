/* A job's command written as one line that a POSIX shell runs to the same effect: weft -n's output and the command a failure line shows. */
#ifndef WEFT_CMDLINE_H
#define WEFT_CMDLINE_H

#include <stdbool.h>
#include <stddef.h>

struct buf;
struct job;
struct kv;

struct cmdline_opts {
	/* The recipe's shell, as written ("/bin/bash -o pipefail"); NULL: the
	 * default, /bin/sh, which is what reads the line. */
	const char *shell;
	/* NAME=VALUE arguments of weft's command line: they win over the
	 * task's env.NAME keys. */
	const struct kv *overrides;
	size_t noverrides;
};

/* Appends to b, without a newline, one line for /bin/sh that does what
 * running j does: its env.NAME keys as assignments, its dir as
 * "(cd DIR && ...)", its script as "SHELL [-e] -c 'SCRIPT' NAME" unless it
 * is a plain command that reads the same to the shell that reads the
 * line (then as it is), a step as the commands it imitates. Under "set
 * -e" the line fails exactly when the job would. Returns false, with
 * nothing appended, when j runs nothing. */
bool cmdline_render(struct buf *b, const struct job *j, const struct cmdline_opts *o);

/* Appends j's command for a failure line: its first line, "..." and how
 * many lines follow when there are more, after "cd DIR && " when it has
 * a dir; control bytes as \xHH; a line over 1000 bytes cut there, with
 * " ... (N more bytes)". Returns false when j runs nothing. */
bool cmdline_brief(struct buf *b, const struct job *j);

#endif
