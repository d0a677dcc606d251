/* weft's own stdout and stderr: whole, blocking writes that keep the status line below the output, and stop quietly on EPIPE. */
#ifndef WEFT_TERM_H
#define WEFT_TERM_H

#include <stdbool.h>
#include <stddef.h>

enum color_mode { COLOR_AUTO, COLOR_ALWAYS, COLOR_NEVER };

struct term_info {
	bool out_tty;   /* stdout is a terminal */
	bool err_tty;   /* stderr is a terminal */
	bool dumb;      /* TERM is dumb or unset */
	bool color;     /* colour what goes to stdout */
	bool color_err; /* colour what goes to stderr */
	bool quiet;     /* stdout is gone (EPIPE): say nothing more */
	bool status;    /* draw a status line on stderr */
};

extern struct term_info term;

/* "auto", "always" or "never": 0 and *out, or -1. */
int color_mode_parse(const char *s, enum color_mode *out);

/* Looks at fds 1 and 2, TERM, NO_COLOR, FORCE_COLOR and CLICOLOR_FORCE. */
void term_init(enum color_mode mode);

/* Whether stdout is a terminal (after term_init). */
bool term_stdout_is_tty(void);
/* Whether stdout is a pipe or a socket: its bytes may reach the terminal
 * through another process, where a status line cannot be erased first. */
bool term_stdout_is_pipe(void);
/* Whether a status line can be drawn (stderr is a capable terminal). */
bool term_can_status(void);
/* No status line for this run (raw output, or none asked for). */
void term_no_status(void);

/* Called once when a write to stdout or stderr fails with EPIPE. */
void term_on_broken_pipe(void (*cb)(void *ud), void *ud);

/* Writes all of data to fd (1 or 2), erasing the status line first when
 * they share the terminal. Returns 0, or -EPIPE (or another -errno) after
 * which nothing more is written to that fd. */
int term_write(int fd, const char *data, size_t len);

/* While held, term_write() erases the status line but does not draw it
 * again: a line written in several pieces stays whole on the screen. */
void term_hold(bool hold);

/* Output weft could not deliver: the first error (-errno) that kept a
 * write to its stdout or stderr from happening (a full disk; not EPIPE,
 * which means nobody reads), or that cut a job's held output short; 0:
 * none. Such a run does not end as a success. */
int term_lost(void);
void term_note_lost(int err);

/* Shows text as the status line (one line, no newline); NULL erases it. */
void term_status(const char *text);

/* Erases the status line and keeps it off (suspend true) while weft is
 * stopped (Ctrl-Z) or a console job has the terminal; false undoes one
 * true, and the last draws it again. */
void term_suspend(bool suspend);

/* Leaves the status line on screen, as a line of its own, and forgets it. */
void term_status_keep(void);

/* The terminal's width in columns: COLUMNS when set, else the terminal's (80 when unknown). */
int term_width(void);

#endif
