/* The guard: a small process that outlives weft only to stop every job's process group when weft dies by any means (SIGKILL, the OOM killer, a signal weft does not handle). */
#include "guard.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* Each job runs in a process group of its own, so that weft can stop it and
 * whatever it started; but nothing stops those groups when weft itself is
 * killed. PR_SET_PDEATHSIG would need a hook between fork and exec that
 * posix_spawn does not have, and it reaches one process, not a group. So
 * the first job starts a guard: a fork of weft that sits in read(2) on a
 * pipe whose only writer is weft, and reads the groups to stop from a table
 * in memory the two share. The table costs a job two stores and no system
 * call; the guard wakes only when weft is gone (EOF), sends SIGTERM (and
 * SIGCONT, for stopped groups) to every group still listed, and SIGKILL to
 * those left after GUARD_GRACE_MS. */

#define GUARD_SLOTS 65536
#define GUARD_GRACE_MS 500

static pid_t *table;            /* shared with the guard; 0: a free slot */
static int free_stack[GUARD_SLOTS];
static int nfree = -1;          /* -1: the guard is not started */
static int used;                /* slots handed out, ever; below them, free_stack */
static int wfd = -1;
static pid_t guard = -1;
static bool failed;

static void pause_ms(long ms)
{
	struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

/* The guard's whole life; only async-signal-safe calls, as it is a fork of
 * a process that may have threads. */
static _Noreturn void watch(int rfd)
{
	/* Out of weft's session: a signal to weft's process group or terminal
	 * must not end the guard first. */
	setsid();
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = SIG_IGN;
	for (int s = 1; s < NSIG; s++)
		if (s != SIGKILL && s != SIGSTOP && s != SIGCHLD)
			sigaction(s, &sa, NULL);
	sa.sa_handler = SIG_DFL;
	sigaction(SIGCHLD, &sa, NULL);
	sigset_t none;
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	prctl(PR_SET_NAME, "weft-guard");
	if (dup2(rfd, 0) < 0)
		_exit(1);
	close_range(1, ~0U, 0);
	char c;
	while (read(0, &c, 1) < 0 && errno == EINTR)
		;
	/* weft has gone. */
	bool any = false;
	for (int i = 0; i < GUARD_SLOTS; i++) {
		pid_t pg = __atomic_load_n(&table[i], __ATOMIC_ACQUIRE);
		if (pg > 0) {
			kill(-pg, SIGTERM);
			kill(-pg, SIGCONT);
			any = true;
		}
	}
	for (long waited = 0; any && waited < GUARD_GRACE_MS; waited += 20) {
		pause_ms(20);
		any = false;
		for (int i = 0; i < GUARD_SLOTS; i++) {
			pid_t pg = __atomic_load_n(&table[i], __ATOMIC_ACQUIRE);
			if (pg > 0 && kill(-pg, 0) == 0)
				any = true;
		}
	}
	for (int i = 0; any && i < GUARD_SLOTS; i++) {
		pid_t pg = __atomic_load_n(&table[i], __ATOMIC_ACQUIRE);
		if (pg > 0)
			kill(-pg, SIGKILL);
	}
	_exit(0);
}

static bool start(void)
{
	if (failed)
		return false;
	failed = true; /* until it works */
	table = mmap(NULL, GUARD_SLOTS * sizeof *table, PROT_READ | PROT_WRITE,
		     MAP_SHARED | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (table == MAP_FAILED) {
		table = NULL;
		return false;
	}
	int p[2];
	if (pipe2(p, O_CLOEXEC) < 0)
		return false;
	pid_t pid = fork();
	if (pid < 0) {
		close(p[0]);
		close(p[1]);
		return false;
	}
	if (pid == 0) {
		close(p[1]);
		watch(p[0]);
	}
	close(p[0]);
	wfd = p[1];
	guard = pid;
	nfree = 0;
	failed = false;
	return true;
}

int guard_add(pid_t pgid)
{
	if (nfree < 0 && !start())
		return -1;
	int i;
	if (nfree > 0)
		i = free_stack[--nfree];
	else if (used < GUARD_SLOTS)
		i = used++;
	else
		return -1;
	__atomic_store_n(&table[i], pgid, __ATOMIC_RELEASE);
	return i;
}

void guard_remove(int slot)
{
	if (slot < 0 || !table)
		return;
	__atomic_store_n(&table[slot], 0, __ATOMIC_RELEASE);
	free_stack[nfree++] = slot;
}

void guard_end(void)
{
	if (wfd < 0)
		return;
	close(wfd);
	wfd = -1;
	int st;
	while (waitpid(guard, &st, 0) < 0 && errno == EINTR)
		;
	guard = -1;
}

pid_t guard_pid(void)
{
	return guard;
}
