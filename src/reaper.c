/* As PID 1 (a container's entrypoint) or a child subreaper, weft inherits the orphans of its jobs: it reaps them, never its own children, whose exit statuses belong to their owners. */
#include "reaper.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdbool.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "guard.h"
#include "proc.h"

/*
 * A job that leaves a background process behind makes an orphan; the
 * kernel gives it to PID 1 or the nearest subreaper, which must reap it or
 * keep a zombie for good. waitpid(-1) would do that, and also take the
 * exit status of a job's own process before proc.c reads it. So the
 * children are listed (/proc/self/task/PID/children: orphans are given
 * to the main thread) and each that is not a job's leader or the guard is
 * reaped by its pid, after SIGCHLD.
 */

static uv_signal_t chld;
static bool on;

static bool ours(pid_t pid)
{
	if (pid == guard_pid())
		return true;
	for (struct proc *p = proc_live(); p; p = p->next_live)
		if (p->pid == pid)
			return true;
	return false;
}

static void sweep(uv_signal_t *h, int signum)
{
	(void)h;
	(void)signum;
	char path[64];
	snprintf(path, sizeof path, "/proc/self/task/%d/children", (int)getpid());
	FILE *f = fopen(path, "re");
	if (!f)
		return;
	int pid;
	while (fscanf(f, "%d", &pid) == 1) {
		if (ours(pid))
			continue;
		int st;
		while (waitpid(pid, &st, WNOHANG) < 0 && errno == EINTR)
			;
	}
	fclose(f);
}

void reaper_watch(uv_loop_t *loop)
{
	if (on)
		return;
	int sub = 0;
	if (getpid() != 1 && (prctl(PR_GET_CHILD_SUBREAPER, &sub) < 0 || !sub))
		return;
	on = true;
	uv_signal_init(loop, &chld);
	uv_signal_start(&chld, sweep, SIGCHLD);
	uv_unref((uv_handle_t *)&chld);
	/* Orphans that ended before this: no SIGCHLD will come for them. */
	sweep(&chld, SIGCHLD);
}

void reaper_shutdown(void)
{
	if (!on)
		return;
	on = false;
	uv_close((uv_handle_t *)&chld, NULL);
}
