/* The guard: a small process that outlives weft only to stop every job's process group when weft dies by any means (SIGKILL, the OOM killer, a signal weft does not handle). */
#include "guard.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
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
 * the first job starts a guard: weft itself, run afresh as `weft --guard`,
 * that sits in read(2) on a pipe whose only writer is weft, and reads the
 * groups to stop from a table in memory the two share (a memfd). The table
 * costs a job two stores and no system call; the guard wakes only when weft
 * is gone (EOF), sends SIGTERM (and SIGCONT, for stopped groups) to every
 * group still listed, and SIGKILL to those left after GUARD_GRACE_MS.
 *
 * Not a fork: a fork shares every page of weft copy-on-write for as long as
 * the guard lives, and each page weft then writes (its task graph, as jobs
 * run) costs a fault and a TLB shootdown, some 2,000 with 10,000 tasks. */

#define GUARD_SLOTS 65536
#define GUARD_GRACE_MS 500

#define GUARD_TABLE_BYTES (GUARD_SLOTS * sizeof(pid_t))

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

/* The guard's whole life: fd 0 is the pipe, fd 3 the table. */
int guard_main(void)
{
	/* Out of weft's session (posix_spawn put it in one of its own): a
	 * signal to weft's process group or terminal must not end the guard. */
	setsid();
	table = mmap(NULL, GUARD_TABLE_BYTES, PROT_READ, MAP_SHARED, 3, 0);
	if (table == MAP_FAILED)
		return 1;
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
	return 0;
}

static bool start(void)
{
	if (failed)
		return false;
	failed = true; /* until it works */
	int mfd = memfd_create("weft-guard", MFD_CLOEXEC);
	if (mfd < 0)
		return false;
	if (ftruncate(mfd, GUARD_TABLE_BYTES) < 0) {
		close(mfd);
		return false;
	}
	table = mmap(NULL, GUARD_TABLE_BYTES, PROT_READ | PROT_WRITE, MAP_SHARED, mfd, 0);
	if (table == MAP_FAILED) {
		table = NULL;
		close(mfd);
		return false;
	}
	int p[2];
	if (pipe2(p, O_CLOEXEC) < 0) {
		close(mfd);
		return false;
	}
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t attr;
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, p[0], 0);
	posix_spawn_file_actions_adddup2(&fa, mfd, 3);
	/* Nothing else of weft's: its output must end when weft's does. */
	posix_spawn_file_actions_addclosefrom_np(&fa, 4);
	posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
	posix_spawn_file_actions_adddup2(&fa, 1, 2);
	posix_spawnattr_init(&attr);
	/* Its own session from the start, so that a Ctrl-C that comes while
	 * it starts cannot end it; default dispositions and an empty mask. */
	sigset_t all, none;
	sigfillset(&all);
	sigemptyset(&none);
	posix_spawnattr_setsigdefault(&attr, &all);
	posix_spawnattr_setsigmask(&attr, &none);
	posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSID | POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK);
	/* The child's /proc/self/exe is weft's, even if weft's file has
	 * been replaced since it started. */
	char *argv[] = {"weft", "--guard", NULL};
	char *envp[] = {NULL};
	pid_t pid;
	int err = posix_spawn(&pid, "/proc/self/exe", &fa, &attr, argv, envp);
	posix_spawn_file_actions_destroy(&fa);
	posix_spawnattr_destroy(&attr);
	close(p[0]);
	close(mfd);
	if (err) {
		close(p[1]);
		munmap(table, GUARD_TABLE_BYTES);
		table = NULL;
		return false;
	}
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
