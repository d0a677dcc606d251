/* The job log (--joblog): one line per finished job in GNU parallel's format, appended so a killed run can be resumed. */
#ifndef WEFT_JOBLOG_H
#define WEFT_JOBLOG_H

#include <stdbool.h>

/*
 * The file is GNU parallel's joblog: a header line
 *
 *   Seq Host Starttime JobRuntime Send Receive Exitval Signal Command
 *
 * (tab-separated), then one tab-separated line per finished job, printed
 * as parallel prints it: "%llu\t%s\t%.3f\t%10.3f\t%llu\t%llu\t%d\t%d\t%s\n"
 * (Starttime is epoch seconds; JobRuntime is right-aligned in ten
 * columns, cut, not rounded, to milliseconds).
 *
 * One difference: parallel writes a newline in the command as a NUL byte
 * and a tab as is; weft writes "\n", "\t" and "\\" as backslash sequences,
 * so a record is always one line of exactly nine fields. The reader also
 * takes parallel's forms (a NUL byte is a newline, a raw tab stays in the
 * command), but a command holding a backslash reads back differently from
 * what parallel ran.
 *
 * A record is one write() of a whole line, so a run killed at any moment
 * leaves at most one torn line (no final newline) at the end. The reader
 * ignores it; the next append first closes it with "\t\t\n", in the same
 * write() as its own record, and a line that ends in two tabs is never a
 * record, so the torn line stays ignored, and is counted as torn.
 * Records are not fsync()ed: they survive the process, not the machine.
 */

struct joblog_rec {
	unsigned long long seq;
	const char *host;    /* ":" is the local machine; NULL writes ":" */
	double start;        /* epoch seconds */
	double runtime;      /* seconds */
	unsigned long long send, receive; /* bytes */
	int exitval;
	int signal;          /* 0: not killed by a signal */
	const char *command; /* as run: may hold newlines, tabs, backslashes */
};

struct joblog;

/* Opens path for appending (O_APPEND|O_NOFOLLOW, creating it with mode
 * 0644) and writes the header when the file is empty. Returns 0 and sets
 * *out, which the caller frees with joblog_close(); or returns -errno and
 * leaves *out alone: -ELOOP when path is a symbolic link to a regular file
 * (one to a device or a fifo, and those in /dev such as /dev/stderr, are
 * followed, and never truncated), -ENOSPC and the
 * like when the header cannot be written, -EAGAIN when path was replaced
 * while it was being opened. With truncate, an existing log is emptied
 * first, as a new run without --resume starts a new log. */
int joblog_open(struct joblog **out, const char *path, bool truncate);

/* Appends r as one line, in one write(). Returns 0; -EINVAL when host is
 * empty or holds a tab or newline, command is NULL, signal is negative or
 * a time is not finite; or the write's -errno (a short write, which leaves
 * a torn line that readers ignore, is -ENOSPC). A failed record is not in
 * the log; the caller says so, and may try again. */
int joblog_append(struct joblog *jl, const struct joblog_rec *r);

void joblog_close(struct joblog *jl);

/* Reads the log at path and calls cb (if not NULL) with each complete,
 * well-formed record in file order; r and its strings (the command
 * unescaped) live only during the call. Header lines are skipped. Torn
 * lines (an unterminated last line, or one an append closed) are counted
 * in *torn (if not NULL); each malformed line is passed with its line
 * number (from 1) to bad_cb (if not NULL). A missing file holds no
 * records. Returns 0 or -errno when the file cannot be read. */
int joblog_read(const char *path, void (*cb)(void *ud, const struct joblog_rec *r),
		void (*bad_cb)(void *ud, unsigned long line, const char *why), void *ud,
		unsigned *torn);

#endif
