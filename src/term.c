/* weft's own stdout and stderr: whole, blocking writes that keep the status line below the output, and stop quietly on EPIPE. */
#include "term.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "env.h"
#include "util.h"

struct term_info term;

static bool dead[3];         /* fd 1/2 failed: write nothing more there */
static void (*broken_cb)(void *ud);
static void *broken_ud;
static struct buf shown;     /* the status line on screen now, if any */
static bool status_visible;

int color_mode_parse(const char *s, enum color_mode *out)
{
	static const char *const names[] = {"auto", "always", "never"};
	for (int i = 0; i < 3; i++)
		if (strcmp(s, names[i]) == 0) {
			*out = (enum color_mode)i;
			return 0;
		}
	return -1;
}

void term_init(enum color_mode mode)
{
	const char *t = getenv("TERM");
	const char *nc = getenv("NO_COLOR");
	term.out_tty = isatty(1);
	term.err_tty = isatty(2);
	term.dumb = !t || !*t || strcmp(t, "dumb") == 0;
	/* Each stream is coloured only if it is a terminal itself. */
	if (mode == COLOR_ALWAYS) {
		term.color = term.color_err = true;
	} else if (mode == COLOR_NEVER) {
		term.color = term.color_err = false;
	} else if (env_is_true("FORCE_COLOR") || env_is_true("CLICOLOR_FORCE")) {
		/* Asked for in the environment, as CI systems that show colours do. */
		term.color = term.color_err = true;
	} else {
		bool ok = !term.dumb && !(nc && *nc);
		term.color = ok && term.out_tty;
		term.color_err = ok && term.err_tty;
	}
	term.status = term.err_tty && !term.dumb;
	buf_init(&shown);
}

void term_on_broken_pipe(void (*cb)(void *ud), void *ud)
{
	broken_cb = cb;
	broken_ud = ud;
}

bool term_stdout_is_tty(void)
{
	return term.out_tty;
}

bool term_stdout_is_pipe(void)
{
	struct stat st;
	return fstat(1, &st) == 0 && (S_ISFIFO(st.st_mode) || S_ISSOCK(st.st_mode));
}

bool term_can_status(void)
{
	return term.status;
}

void term_no_status(void)
{
	term.status = false;
}

int term_width(void)
{
	/* COLUMNS, when set, is the user's word on it. */
	const char *cols = getenv("COLUMNS");
	unsigned long long n;
	const char *end = cols ? parse_uint(cols, 10000, &n) : NULL;
	if (end && !*end && n > 0)
		return (int)n;
	struct winsize ws;
	if (ioctl(2, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0)
		return ws.ws_col;
	return 80;
}

static int lost; /* see term_lost() */

void term_note_lost(int err)
{
	if (!lost && err < 0)
		lost = err;
}

int term_lost(void)
{
	return lost;
}

/* Our fds are left blocking (we never make them non-blocking), but the
 * parent may have: then wait for room instead of failing. */
static int write_all(int fd, const char *p, size_t n)
{
	if (dead[fd])
		return -EPIPE;
	while (n) {
		ssize_t w = write(fd, p, n);
		if (w >= 0) {
			p += w;
			n -= (size_t)w;
			continue;
		}
		if (errno == EINTR)
			continue;
		if (errno == EAGAIN) {
			struct pollfd pfd = {.fd = fd, .events = POLLOUT};
			poll(&pfd, 1, -1);
			continue;
		}
		int err = errno;
		dead[fd] = true;
		if (err != EPIPE)
			term_note_lost(-err);
		if (err == EPIPE && fd == 1)
			term.quiet = true;
		if (err == EPIPE && broken_cb)
			broken_cb(broken_ud);
		return -err;
	}
	return 0;
}

static void erase(void)
{
	if (status_visible) {
		write_all(2, "\r\033[K", 4);
		status_visible = false;
	}
}

static int suspended; /* term_suspend(true) calls not yet undone */

static void draw(void)
{
	if (shown.len && !status_visible && !suspended) {
		write_all(2, shown.p, shown.len);
		status_visible = true;
	}
}

static bool holding;
static bool shown_erased; /* erased while held: draw it on release */

void term_hold(bool hold)
{
	holding = hold;
	if (!hold && shown_erased) {
		shown_erased = false;
		draw();
	}
}

int term_write(int fd, const char *data, size_t len)
{
	bool shares = status_visible && (fd == 2 || term.out_tty);
	if (shares)
		erase();
	int r = write_all(fd, data, len);
	if (shares && holding)
		shown_erased = true;
	else if (shares)
		draw();
	return r;
}

void term_status(const char *text)
{
	if (!term.status)
		return;
	if (!text) {
		erase();
		buf_reset(&shown);
		return;
	}
	if (status_visible && shown.len == strlen(text) && memcmp(shown.p, text, shown.len) == 0)
		return;
	erase();
	buf_reset(&shown);
	buf_adds(&shown, text);
	draw();
}

void term_suspend(bool suspend)
{
	if (suspend) {
		suspended++;
		erase();
	} else if (suspended && !--suspended) {
		draw();
	}
}

void term_status_keep(void)
{
	if (status_visible)
		write_all(2, "\n", 1);
	status_visible = false;
	buf_reset(&shown);
}
