/* One child process: spawned into its own process group, its output read and its exit watched on the loop, stopped as a group. */
#include "proc.h"
#include "guard.h"
#include "util.h"
#include "reaper.h"
#include "stopped.h"
#include "suspend.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <termios.h>
#include <pthread.h>
#include <unistd.h>

/*
 * Why not uv_spawn: on Linux libuv 1.44 forks on the loop thread and waits
 * for the exec, which costs ~1.3 ms with a small parent and tens of ms once
 * weft is large, and hands the child a socketpair instead of a pipe (so
 * `echo x > /dev/stdout` fails in a job). glibc's posix_spawn uses
 * CLONE_VFORK (~0.2 ms, flat) and can put the child in a new process
 * group; a pidfd watched by uv_poll_t tells the loop when the child
 * exits, so the loop stays in charge and no SIGCHLD handler is needed.
 */

static int devnull = -1;
static struct proc *live; /* spawned, not yet reaped */

struct proc *proc_live(void)
{
	return live;
}

static void live_add(struct proc *p)
{
	p->next_live = live;
	p->prev_live = &live;
	if (live)
		live->prev_live = &p->next_live;
	live = p;
}

static void live_remove(struct proc *p)
{
	if (!p->prev_live)
		return;
	*p->prev_live = p->next_live;
	if (p->next_live)
		p->next_live->prev_live = p->prev_live;
	p->next_live = NULL;
	p->prev_live = NULL;
}
static int passed[2] = {-1, -1};

void proc_pass_fds(int a, int b)
{
	/* Inherited by leaving them open on exec: no file action (and none of
	 * the two getrlimit calls glibc makes to check each) per spawn. */
	for (int i = 0; i < 2; i++)
		if (passed[i] >= 0)
			fcntl(passed[i], F_SETFD, FD_CLOEXEC);
	passed[0] = a;
	passed[1] = b;
	for (int i = 0; i < 2; i++)
		if (passed[i] >= 0)
			fcntl(passed[i], F_SETFD, 0);
}

int proc_setup(void)
{
	devnull = open("/dev/null", O_RDONLY | O_CLOEXEC);
	return devnull < 0 ? -errno : 0;
}

static void unguard(struct proc *p)
{
	guard_remove(p->guard);
	p->guard = -1;
}

static void maybe_closed(struct proc *p)
{
	if (--p->handles != 0)
		return;
	unguard(p);
	if (p->ops->closed)
		p->ops->closed(p);
}

static void handle_close_cb(uv_handle_t *h)
{
	maybe_closed(h->data);
}

/* The terminal for a console job: weft's, if weft is in its foreground
 * (a weft in the background must not take it from the shell); -1: none. */
static int console_tty(void)
{
	static int fd = -2;
	if (fd == -2)
		fd = open("/dev/tty", O_RDWR | O_CLOEXEC | O_NOCTTY);
	return fd >= 0 && tcgetpgrp(fd) == getpgrp() ? fd : -1;
}

/* The terminal to group pgrp, in modes (when not NULL). From a background
 * group tcsetpgrp() would get SIGTTOU, blocked for the moment. */
static void tty_hand(int tty, pid_t pgrp, const struct termios *modes)
{
	sigset_t ttou, old;
	sigemptyset(&ttou);
	sigaddset(&ttou, SIGTTOU);
	pthread_sigmask(SIG_BLOCK, &ttou, &old);
	tcsetpgrp(tty, pgrp);
	if (modes)
		tcsetattr(tty, TCSADRAIN, modes);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
}

/* A console job is over: its terminal back to weft, in the modes it had. */
static void give_back_tty(struct proc *p)
{
	if (p->tty < 0)
		return;
	if (!p->job_modes)
		tty_hand(p->tty, getpgrp(), p->modes);
	free(p->modes);
	free(p->job_modes);
	p->modes = p->job_modes = NULL;
	p->tty = -1;
}

/* Ctrl-Z while a console job has the terminal: weft takes it back, in its
 * own modes, keeping the job's for when it goes on. */
static void console_pause(struct proc *p)
{
	if (p->tty < 0 || p->job_modes)
		return;
	struct termios t;
	if (tcgetattr(p->tty, &t) < 0)
		return;
	p->job_modes = xmalloc(sizeof t);
	*p->job_modes = t;
	tty_hand(p->tty, getpgrp(), p->modes);
}

/* weft goes on: the job has the terminal again, in its own modes, if weft
 * is in the foreground (after `bg` it is not, and the shell keeps it). */
static void console_resume(struct proc *p)
{
	if (p->tty < 0 || !p->job_modes)
		return;
	if (tcgetpgrp(p->tty) == getpgrp())
		tty_hand(p->tty, p->pid, p->job_modes);
	free(p->job_modes);
	p->job_modes = NULL;
}

static void finish(struct proc *p)
{
	if (p->is_done || !p->exited || p->out_open[0] || p->out_open[1])
		return;
	p->is_done = true;
	give_back_tty(p);
	/* Anything the job left behind in its group goes with it; the group id
	 * stays reserved while any member lives, so this cannot hit a stranger. */
	kill(-p->pid, SIGKILL);
	unguard(p);
	uv_timer_stop(&p->timer);
	uv_close((uv_handle_t *)&p->timer, handle_close_cb);
	p->ops->done(p);
}

static void close_out(struct proc *p, int i)
{
	if (!p->out_open[i])
		return;
	p->out_open[i] = false;
	uv_close((uv_handle_t *)&p->out[i], handle_close_cb);
}

static void alloc_cb(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
	/* Output is consumed inside read_cb, so one buffer serves every pipe. */
	static char chunk[65536];
	(void)h;
	(void)suggested;
	buf->base = chunk;
	buf->len = sizeof chunk;
}

static void read_cb(uv_stream_t *s, ssize_t n, const uv_buf_t *buf)
{
	struct proc *p = s->data;
	int i = (uv_pipe_t *)s == &p->out[0] ? 0 : 1;
	if (n > 0) {
		p->ops->output(p, i + 1, buf->base, (size_t)n);
		return;
	}
	if (n < 0) {
		close_out(p, i);
		finish(p);
	}
}

static void timer_cb(uv_timer_t *t)
{
	struct proc *p = t->data;
	if (!p->exited && !p->stopping) {
		p->timed_out = true;
		proc_stop(p);
		return;
	}
	/* The grace period is over. */
	kill(-p->pid, SIGKILL);
	if (p->exited) {
		/* Someone outside the group still holds the pipes: stop waiting. */
		close_out(p, 0);
		close_out(p, 1);
		finish(p);
	}
}

/* Reaps p if its leader has exited; returns false if it has not. */
static bool reap(struct proc *p)
{
	siginfo_t info;
	memset(&info, 0, sizeof info);
	/* Look first, reap after: while the leader is a zombie the group id is
	 * surely still ours, so the rest of the group (a background `sleep &`)
	 * can be told to go. */
	int w = waitid(P_PID, (id_t)p->pid, &info, WEXITED | WNOHANG | WNOWAIT);
	if (w < 0 && errno != ECHILD)
		return false;
	if (w == 0 && info.si_pid != p->pid)
		return false; /* still running */
	if (p->out_open[0] || p->out_open[1])
		kill(-p->pid, SIGTERM);
	int st = 0;
	pid_t r;
	do
		r = waitpid(p->pid, &st, WNOHANG);
	while (r < 0 && errno == EINTR);
	if (r == 0)
		return false;
	live_remove(p);
	p->exited = true;
	p->status = r == p->pid ? st : 0;
	return true;
}

static void after_exit(struct proc *p)
{
	if (p->out_open[0] || p->out_open[1]) {
		/* Bound the wait for EOF: a grandchild may hold the pipe. */
		p->stopping = true;
		uv_timer_stop(&p->timer);
		uv_timer_start(&p->timer, timer_cb, p->grace_ms, 0);
	}
	finish(p);
}

static void exit_cb(uv_poll_t *w, int status, int events)
{
	struct proc *p = w->data;
	(void)status;
	(void)events;
	if (!reap(p))
		return; /* not yet: a spurious wake-up */
	uv_poll_stop(w);
	uv_close((uv_handle_t *)w, handle_close_cb);
	close(p->pidfd);
	p->pidfd = -1;
	after_exit(p);
}

/*
 * Where pidfd_open is missing (Linux < 5.3, or under valgrind), children
 * are watched the old way: on SIGCHLD, each such child is looked at by
 * its own pid (never waitpid(-1), which could take a child that is not
 * ours).
 */
static struct proc *unwatched;     /* children without a pidfd */
static uv_signal_t sigchld;
static bool sigchld_on;

/* The loop must wait for the children it still watches this way, but
 * those it was told not to wait for (proc_set_ref). */
static void sigchld_ref(void)
{
	bool any = false;
	for (struct proc *p = unwatched; p && !any; p = p->next_unwatched)
		any = !p->unref;
	if (any)
		uv_ref((uv_handle_t *)&sigchld);
	else
		uv_unref((uv_handle_t *)&sigchld);
}

static void sigchld_cb(uv_signal_t *h, int signum)
{
	(void)h;
	(void)signum;
	for (struct proc **pp = &unwatched; *pp;) {
		struct proc *p = *pp;
		if (!reap(p)) {
			pp = &p->next_unwatched;
			continue;
		}
		*pp = p->next_unwatched;
		after_exit(p);
	}
	sigchld_ref();
}

static void watch_by_signal(struct proc *p)
{
	if (!sigchld_on) {
		uv_signal_init(p->loop, &sigchld);
		uv_signal_start(&sigchld, sigchld_cb, SIGCHLD);
		uv_unref((uv_handle_t *)&sigchld);
		sigchld_on = true;
	}
	p->next_unwatched = unwatched;
	unwatched = p;
	/* It may have exited before the handler was there to hear it. */
	sigchld_cb(&sigchld, SIGCHLD);
}

void proc_shutdown(void)
{
	stopped_shutdown();
	reaper_shutdown();
	if (sigchld_on) {
		uv_close((uv_handle_t *)&sigchld, NULL);
		sigchld_on = false;
	}
}

int proc_spawn(struct proc *p, uv_loop_t *loop, const struct proc_spawn_opts *o,
	       const struct proc_ops *ops, void *data)
{
	int fds[2][2];
	int r;

	memset(p, 0, sizeof *p);
	p->loop = loop;
	p->ops = ops;
	p->data = data;
	p->pidfd = -1;
	p->tty = -1;
	p->grace_ms = o->grace_ms;
	/* A job must never read weft's own stdin (fan-out input lives there). */
	if (devnull < 0 && (r = proc_setup()) < 0)
		return r;

	if (pipe2(fds[0], O_CLOEXEC) < 0)
		return -errno;
	if (pipe2(fds[1], O_CLOEXEC) < 0) {
		r = -errno;
		close(fds[0][0]);
		close(fds[0][1]);
		return r;
	}

	posix_spawn_file_actions_t fa;
	posix_spawnattr_t attr;
	sigset_t none, def;
	posix_spawn_file_actions_init(&fa);
	int tty = o->console ? console_tty() : -1;
	if (tty >= 0) {
		/* The pipes stay, unused: they read EOF at once. */
		for (int i = 0; i < 3; i++)
			posix_spawn_file_actions_adddup2(&fa, tty, i);
		/* In the child, once in its new group, before exec. */
		posix_spawn_file_actions_addtcsetpgrp_np(&fa, tty);
		p->tty = tty;
		struct termios t;
		if (tcgetattr(tty, &t) == 0) {
			p->modes = xmalloc(sizeof t);
			*p->modes = t;
		}
	} else {
		posix_spawn_file_actions_adddup2(&fa, o->stdin_fd > 0 ? o->stdin_fd : devnull, 0);
		posix_spawn_file_actions_adddup2(&fa, fds[0][1], 1);
		posix_spawn_file_actions_adddup2(&fa, fds[1][1], 2);
	}
	if (o->fd3 > 2)
		posix_spawn_file_actions_adddup2(&fa, o->fd3, 3);
	if (o->dir)
		posix_spawn_file_actions_addchdir_np(&fa, o->dir);
	posix_spawnattr_init(&attr);
	sigemptyset(&none);
	/* weft ignores SIGPIPE; an ignored signal survives exec, so reset it. */
	sigemptyset(&def);
	sigaddset(&def, SIGPIPE);
	posix_spawnattr_setsigmask(&attr, &none);
	posix_spawnattr_setsigdefault(&attr, &def);
	posix_spawnattr_setpgroup(&attr, 0);
	posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);

	pid_t pid;
	const char *prog = o->path ? o->path : o->argv[0];
	r = -(o->search_path ? posix_spawnp : posix_spawn)(&pid, prog, &fa, &attr, o->argv, o->envp);
	posix_spawn_file_actions_destroy(&fa);
	posix_spawnattr_destroy(&attr);
	close(fds[0][1]);
	close(fds[1][1]);
	if (r < 0) {
		close(fds[0][0]);
		close(fds[1][0]);
		give_back_tty(p);
		return r;
	}
	p->pid = pid;
	/* Should weft die, its guard stops the group. */
	p->guard = guard_add(pid);
	live_add(p);
	stopped_watch(loop);
	reaper_watch(loop);

	/* WEFT_NO_PIDFD: use the SIGCHLD path even where pidfds exist (under
	 * valgrind, which does not know pidfd_open; and to test that path). */
	static int no_pidfd = -1;
	if (no_pidfd < 0)
		no_pidfd = getenv("WEFT_NO_PIDFD") != NULL;
	p->pidfd = no_pidfd ? -1 : (int)syscall(SYS_pidfd_open, pid, 0);

	uv_pipe_init(loop, &p->out[0], 0);
	uv_pipe_init(loop, &p->out[1], 0);
	for (int i = 0; i < 2; i++) {
		p->out[i].data = p;
		if (uv_pipe_open(&p->out[i], fds[i][0]) < 0)
			abort();
		p->out_open[i] = true;
		p->handles++;
		uv_read_start((uv_stream_t *)&p->out[i], alloc_cb, read_cb);
	}
	uv_timer_init(loop, &p->timer);
	p->timer.data = p;
	p->handles++;
	if (o->timeout_ms)
		uv_timer_start(&p->timer, timer_cb, o->timeout_ms, 0);
	if (p->pidfd >= 0) {
		uv_poll_init(loop, &p->exit_watch, p->pidfd);
		p->exit_watch.data = p;
		p->handles++;
		uv_poll_start(&p->exit_watch, UV_READABLE, exit_cb);
	} else {
		watch_by_signal(p);
	}
	return 0;
}

void proc_stop(struct proc *p)
{
	if (p->is_done || p->stopping)
		return;
	p->stopping = true;
	kill(-p->pid, SIGTERM);
	/* A stopped process (it wanted the terminal) acts on it only once
	 * continued. */
	kill(-p->pid, SIGCONT);
	uv_timer_stop(&p->timer);
	uv_timer_start(&p->timer, timer_cb, p->grace_ms, 0);
}

void proc_kill(struct proc *p)
{
	if (p->is_done)
		return;
	kill(-p->pid, SIGKILL);
}

void proc_pause(struct proc *p, bool pause)
{
	if (p->is_done)
		return;
	p->paused = pause;
	if (pause) {
		kill(-p->pid, SIGSTOP);
		p->paused_timer = suspend_timer(&p->timer);
		console_pause(p);
		return;
	}
	suspend_timer_resume(&p->timer, timer_cb, p->paused_timer);
	p->paused_timer = 0;
	p->stop_reported = false;
	console_resume(p);
	kill(-p->pid, SIGCONT);
}

void proc_set_ref(struct proc *p, bool ref)
{
	void (*set)(uv_handle_t *) = ref ? uv_ref : uv_unref;
	for (int i = 0; i < 2; i++)
		if (p->out_open[i])
			set((uv_handle_t *)&p->out[i]);
	if (!uv_is_closing((uv_handle_t *)&p->timer))
		set((uv_handle_t *)&p->timer);
	if (p->pidfd >= 0 && !uv_is_closing((uv_handle_t *)&p->exit_watch))
		set((uv_handle_t *)&p->exit_watch);
	p->unref = !ref;
	if (p->pidfd < 0 && sigchld_on)
		sigchld_ref();
}
