/* Test driver for sched.c: builds a graph from a script on stdin, then starts and ends its tasks as the script says, printing what the scheduler decides.
 *
 *   sched-test < SCRIPT
 *
 * One command a line, words split at blanks; blank lines and lines that
 * start with '#' are skipped.
 *   task NAME [DEP...]   adds task NAME and its deps (before init)
 *   init [-k] [NAME...]  resolves the graph, selects NAMEs (every task when
 *                        none is given) and calls sched_init; -k: keep going
 *   next [N]             calls sched_next until it gives nothing, or N times:
 *                        "start: NAMES" ("start: -" when none started)
 *   ok NAME...           sched_done(NAME, true), in turn
 *   fail NAME...         sched_done(NAME, false), in turn
 *   stop                 sched_stop
 *   state                every selected task's state, in recipe order:
 *                        "state: NAME=STATE ..." (waiting ready running ok
 *                        failed blocked)
 *   counts               "total=N running=N ok=N failed=N not_started=N
 *                        finished=yes|no"
 *   run JOBS [FAIL...]   a whole run with JOBS slots: fills the free slots
 *                        from sched_next ("start NAME"), then ends the task
 *                        that started first ("ok NAME", or "fail NAME" for
 *                        the FAIL names), until sched_finished; then the
 *                        counts line
 * Exits 2 on a usage error (an unknown command or task, ending a task that
 * is not running, a graph with errors), naming the script line.
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "diag.h"
#include "graph.h"
#include "sched.h"
#include "util.h"

static int lineno;

static void die(const char *msg, const char *arg)
{
	fprintf(stderr, "sched-test: line %d: %s%s%s\n", lineno, msg, arg ? ": " : "", arg ? arg : "");
	exit(2);
}

static struct task *need_task(struct graph *g, const char *name)
{
	struct task *t = graph_find(g, name);
	if (!t)
		die("no such task", name);
	return t;
}

static const char *state_name(enum task_state s)
{
	switch (s) {
	case TS_WAITING: return "waiting";
	case TS_READY: return "ready";
	case TS_RUNNING: return "running";
	case TS_OK: return "ok";
	case TS_FAILED: return "failed";
	case TS_BLOCKED: return "blocked";
	}
	return "?";
}

static void print_counts(const struct sched *s)
{
	printf("total=%zu running=%zu ok=%zu failed=%zu not_started=%zu finished=%s\n", s->total, s->running,
	       s->ok, s->failed, sched_not_started(s), sched_finished(s) ? "yes" : "no");
}

static bool listed(char **names, size_t n, const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(names[i], name) == 0)
			return true;
	return false;
}

/* A run with `jobs` slots that ends tasks oldest first, failing those in fail[]. */
static void simulate(struct sched *s, unsigned long jobs, char **fail, size_t nfail)
{
	struct task **running = xcalloc(s->total + 1, sizeof *running);
	size_t nrunning = 0;
	while (!sched_finished(s)) {
		struct task *t;
		while (nrunning < jobs && (t = sched_next(s))) {
			printf("start %s\n", t->name);
			running[nrunning++] = t;
		}
		if (nrunning == 0)
			break;
		t = running[0];
		memmove(running, running + 1, --nrunning * sizeof *running);
		bool ok = !listed(fail, nfail, t->name);
		printf("%s %s\n", ok ? "ok" : "fail", t->name);
		sched_done(s, t, ok);
	}
	free(running);
	print_counts(s);
}

int main(void)
{
	struct graph g;
	struct sched s;
	graph_init(&g);
	bool started = false;
	char *line = NULL;
	size_t cap = 0;
	ssize_t len;
	while ((len = getline(&line, &cap, stdin)) >= 0) {
		lineno++;
		if (len > 0 && line[len - 1] == '\n')
			line[len - 1] = '\0';
		size_t n;
		char **w = split_blanks(line, &n);
		if (n == 0 || w[0][0] == '#') {
			free_words(w);
			continue;
		}
		const char *cmd = w[0];
		if (strcmp(cmd, "task") == 0 && n >= 2) {
			if (started)
				die("task after init", NULL);
			struct task *t = graph_add_task(&g, w[1], lineno);
			if (!t)
				die("duplicate task", w[1]);
			for (size_t i = 2; i < n; i++)
				task_add_dep(t, w[i], lineno);
		} else if (strcmp(cmd, "init") == 0) {
			if (started)
				die("init twice", NULL);
			struct diag d;
			diag_init(&d, "weft.ini");
			if (graph_resolve(&g, &d)) {
				diag_flush(&d);
				die("the graph has errors", NULL);
			}
			size_t first = 1;
			bool keep_going = n > 1 && strcmp(w[1], "-k") == 0;
			if (keep_going)
				first = 2;
			for (size_t i = first; i < n; i++)
				graph_select(&g, need_task(&g, w[i]));
			if (first == n)
				for (size_t i = 0; i < g.ntasks; i++)
					graph_select(&g, g.tasks[i]);
			sched_init(&s, &g, keep_going);
			started = true;
		} else if (!started) {
			die("init first", NULL);
		} else if (strcmp(cmd, "next") == 0 && n <= 2) {
			unsigned long max = n == 2 ? strtoul(w[1], NULL, 10) : (unsigned long)-1;
			struct task *t;
			printf("start:");
			unsigned long k = 0;
			while (k < max && (t = sched_next(&s))) {
				printf(" %s", t->name);
				k++;
			}
			printf("%s\n", k ? "" : " -");
		} else if ((strcmp(cmd, "ok") == 0 || strcmp(cmd, "fail") == 0) && n >= 2) {
			for (size_t i = 1; i < n; i++) {
				struct task *t = need_task(&g, w[i]);
				if (!t->selected || s.state[t->index] != TS_RUNNING)
					die("not running", w[i]);
				sched_done(&s, t, cmd[0] == 'o');
			}
		} else if (strcmp(cmd, "stop") == 0 && n == 1) {
			sched_stop(&s);
		} else if (strcmp(cmd, "state") == 0 && n == 1) {
			printf("state:");
			for (size_t i = 0; i < g.ntasks; i++)
				if (g.tasks[i]->selected)
					printf(" %s=%s", g.tasks[i]->name, state_name(s.state[i]));
			printf("\n");
		} else if (strcmp(cmd, "counts") == 0 && n == 1) {
			print_counts(&s);
		} else if (strcmp(cmd, "run") == 0 && n >= 2) {
			unsigned long jobs = strtoul(w[1], NULL, 10);
			if (jobs == 0)
				die("run needs a number of slots", w[1]);
			simulate(&s, jobs, w + 2, n - 2);
		} else {
			die("bad command", line);
		}
		free_words(w);
	}
	free(line);
	if (started)
		sched_release(&s);
	graph_release(&g);
	return fflush(stdout) == 0 ? 0 : 1;
}
