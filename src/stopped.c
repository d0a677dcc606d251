/* Jobs that stopped instead of running (a process that wants the terminal, SIGTTIN or SIGTTOU, or one that stopped itself), found at once and reported. */
#include "stopped.h"

#include <fcntl.h>
#include <stdlib.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "proc.h"
#include "util.h"

/*
 * Each job runs in a background process group. One that reads /dev/tty (a
 * password prompt) or sets the terminal's modes gets SIGTTIN or SIGTTOU
 * and stops, and would look like it runs forever. The leader of the group
 * is weft's child, so its stop comes as SIGCHLD, and waitid(WSTOPPED)
 * tells which signal. A process further down (what the job's shell runs)
 * is not weft's child: while weft has a terminal, a timer looks for
 * stopped processes among each job's descendants (/proc/PID/task/PID/children).
 */

#define SCAN_MS 250
#define SCAN_DEPTH 8
#define SCAN_MAX 256  /* processes looked at per job and scan */

static uv_signal_t chld;
static uv_timer_t scan;
static bool on;

static void report(struct proc *p, const char *why)
{
	p->stop_reported = true;
	if (p->ops->stopped)
		p->ops->stopped(p, why);
}

static const char *stop_why(int sig)
{
	if (sig == SIGTTIN || sig == SIGTTOU)
		return "it wants the terminal (console = true gives a task's jobs the terminal)";
	return sig == SIGTSTP ? "it stopped itself (SIGTSTP)" : "it stopped itself (SIGSTOP)";
}

/* Ctrl-Z on the terminal reached the console job, in the foreground, not
 * weft: weft stops the run as for its own Ctrl-Z (run.c), which takes the
 * terminal back. Where weft cannot stop (SIGTSTP ignored: a shell without
 * job control), the job goes on. */
static void console_tstp(struct proc *p)
{
	struct sigaction sa;
	if (sigaction(SIGTSTP, NULL, &sa) == 0 && sa.sa_handler == SIG_IGN)
		kill(-p->pid, SIGCONT);
	else
		kill(getpid(), SIGTSTP);
}

/* The leaders: weft's own children. Only the stop report is taken, never
 * an exit, which stays for proc.c to reap. */
static void chld_cb(uv_signal_t *h, int signum)
{
	(void)h;
	(void)signum;
	for (struct proc *p = proc_live(); p; p = p->next_live) {
		siginfo_t si;
		memset(&si, 0, sizeof si);
		if (waitid(P_PID, (id_t)p->pid, &si, WSTOPPED | WCONTINUED | WNOHANG) < 0 || si.si_pid != p->pid)
			continue;
		if (si.si_code == CLD_CONTINUED)
			p->stop_reported = false;
		else if (si.si_code == CLD_STOPPED && !p->paused && p->tty >= 0 && si.si_status == SIGTSTP)
			console_tstp(p);
		else if (si.si_code == CLD_STOPPED && !p->paused && !p->stop_reported)
			report(p, stop_why(si.si_status));
	}
}

/* State letter, name and tty of process pid from /proc/PID/stat; 0 when
 * it cannot be read. */
static char proc_state(pid_t pid, char *comm, size_t size, int *tty)
{
	char path[64], line[512];
	snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	ssize_t n = read(fd, line, sizeof line - 1);
	close(fd);
	if (n <= 0)
		return 0;
	line[n] = '\0';
	char *open_paren = strchr(line, '('), *close_paren = strrchr(line, ')');
	if (!open_paren || !close_paren || close_paren[1] != ' ')
		return 0;
	snprintf(comm, size, "%.*s", (int)(close_paren - open_paren - 1), open_paren + 1);
	char state;
	int ppid, pgrp, session;
	if (sscanf(close_paren + 2, "%c %d %d %d %d", &state, &ppid, &pgrp, &session, tty) != 5)
		return 0;
	return state;
}

/* The first stopped process among pid's descendants, in *found; its name
 * in comm. */
static bool find_stopped(pid_t pid, int depth, int *budget, pid_t *found, char *comm, size_t size, int *tty)
{
	char path[64];
	snprintf(path, sizeof path, "/proc/%d/task/%d/children", (int)pid, (int)pid);
	FILE *f = fopen(path, "re");
	if (!f)
		return false;
	int child;
	bool hit = false;
	while (!hit && *budget > 0 && fscanf(f, "%d", &child) == 1) {
		--*budget;
		if (proc_state(child, comm, size, tty) == 'T') {
			*found = child;
			hit = true;
		} else if (depth > 1) {
			hit = find_stopped(child, depth - 1, budget, found, comm, size, tty);
		}
	}
	fclose(f);
	return hit;
}

static void scan_cb(uv_timer_t *t)
{
	(void)t;
	for (struct proc *p = proc_live(); p; p = p->next_live) {
		if (p->paused || p->stop_reported)
			continue;
		int budget = SCAN_MAX, tty = 0;
		pid_t found;
		char comm[64];
		if (!find_stopped(p->pid, SCAN_DEPTH, &budget, &found, comm, sizeof comm, &tty))
			continue;
		/* Which signal stopped it, /proc does not say; on weft's
		 * terminal, the terminal is by far the likeliest. */
		char *why = tty ? xasprintf("'%s' (process %d) wants the terminal, or stopped itself (console = true gives a task's "
					    "jobs the terminal)",
					    comm, (int)found)
				: xasprintf("'%s' (process %d) stopped itself", comm, (int)found);
		report(p, why);
		free(why);
	}
}

/* Whether weft has a controlling terminal, where SIGTTIN and SIGTTOU can
 * happen at all. */
static bool has_terminal(void)
{
	int fd = open("/dev/tty", O_RDONLY | O_NOCTTY | O_CLOEXEC | O_NONBLOCK);
	if (fd < 0)
		return false;
	close(fd);
	return true;
}

void stopped_watch(uv_loop_t *loop)
{
	if (on)
		return;
	on = true;
	uv_signal_init(loop, &chld);
	uv_signal_start(&chld, chld_cb, SIGCHLD);
	uv_unref((uv_handle_t *)&chld);
	uv_timer_init(loop, &scan);
	if (has_terminal()) {
		uv_timer_start(&scan, scan_cb, SCAN_MS, SCAN_MS);
		uv_unref((uv_handle_t *)&scan);
	}
}

void stopped_shutdown(void)
{
	if (!on)
		return;
	on = false;
	uv_close((uv_handle_t *)&chld, NULL);
	uv_close((uv_handle_t *)&scan, NULL);
}
