/* The executor that runs a job's command as a child process in its own process group, with or without a shell. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../events.h"
#include "../executor.h"
#include "../hashtab.h"
#include "../proc.h"
#include "../util.h"

struct process_exec {
	struct executor x;
	struct executor_env env;
	struct hashtab *paths;       /* program name -> where PATH has it ("": nowhere) */
	char **path_keys;         /* the names and paths the table holds, to free */
	size_t npath_keys, path_keys_cap;
};

/* One running child; freed when its handles are closed. */
struct pjob {
	struct proc proc;
	struct job *job;
	const struct executor_cb *cb;
	void *ud;
};

static bool runs(const struct executor *x, const struct job *j)
{
	(void)x;
	return !j->step;
}

static void proc_output(struct proc *p, int stream, const char *data, size_t len)
{
	struct pjob *pj = p->data;
	pj->cb->output(pj->ud, stream, data, len);
}

static void proc_done(struct proc *p)
{
	struct pjob *pj = p->data;
	struct job *j = pj->job;
	if (p->timed_out) {
		j->result = JOB_TIMEOUT;
	} else if (WIFEXITED(p->status)) {
		j->exit_code = WEXITSTATUS(p->status);
		j->result = j->exit_code ? JOB_EXIT : JOB_OK;
	} else if (WIFSIGNALED(p->status)) {
		j->term_signal = WTERMSIG(p->status);
		j->result = JOB_SIGNAL;
	} else {
		j->result = JOB_EXIT;
		j->exit_code = 1;
	}
	pj->job = NULL;
	pj->cb->exited(pj->ud);
}

static void proc_closed(struct proc *p)
{
	free(p->data);
}

static void proc_stopped(struct proc *p, const char *why)
{
	struct pjob *pj = p->data;
	if (pj->job && pj->cb->stopped)
		pj->cb->stopped(pj->ud, why);
}

static const struct proc_ops ops = {proc_output, proc_done, proc_closed, proc_stopped};

/* Words of a one-line command that needs no shell: no quoting, no
 * expansion, no operators, and not a shell builtin that changes the shell
 * itself. Such commands are exec'd directly, as make does, saving a shell
 * start per job. Returns NULL when the shell is needed. */
static char **direct_argv(const char *cmd)
{
	static const char *const builtins[] = {
		".", ":", "alias", "break", "case", "cd", "command", "continue", "eval", "exec", "exit", "export",
		"for", "getopts", "hash", "if", "read", "readonly", "return", "set", "shift", "times", "trap",
		"type", "ulimit", "umask", "unalias", "unset", "until", "wait", "while", "{", "!", NULL,
	};
	if (!*cmd || strpbrk(cmd, "\"'`$&|;<>(){}[]*?~#!=%^\\\n\t\r") || strlen(cmd) > 4096)
		return NULL;
	size_t n;
	char **argv = split_blanks(cmd, &n);
	for (const char *const *b = builtins; n && *b; b++)
		if (strcmp(argv[0], *b) == 0)
			n = 0;
	if (!n) {
		free_words(argv);
		return NULL;
	}
	return argv;
}

/* Where PATH has the program `name`, looked up once per run: posix_spawnp
 * would try every PATH directory in the vforked child for every job, with
 * weft waiting. NULL when it is not there (the shell then says so). */
static const char *which(struct process_exec *px, const char *name)
{
	if (strchr(name, '/'))
		return name;
	if (!px->paths)
		px->paths = hashtab_new();
	const char *hit = hashtab_get(px->paths, name);
	if (hit)
		return *hit ? hit : NULL;
	const char *path = getenv("PATH");
	char *found = NULL;
	for (const char *p = path ? path : "/usr/bin:/bin"; !found;) {
		size_t n = strcspn(p, ":");
		char *cand = n ? xasprintf("%.*s/%s", (int)n, p, name) : xasprintf("./%s", name);
		struct stat st;
		if (access(cand, X_OK) == 0 && stat(cand, &st) == 0 && S_ISREG(st.st_mode))
			found = cand;
		else
			free(cand);
		if (!p[n])
			break;
		p += n + 1;
	}
	char *key = xstrdup(name);
	char *val = found ? found : xstrdup("");
	grow(&px->path_keys, &px->path_keys_cap, px->npath_keys + 2, sizeof *px->path_keys);
	px->path_keys[px->npath_keys++] = key;
	px->path_keys[px->npath_keys++] = val;
	hashtab_put(px->paths, key, val);
	return found;
}

static char **shell_argv(struct process_exec *px, struct job *j)
{
	size_t n = 0;
	while (px->env.shell[n])
		n++;
	char **argv = xcalloc(n + 6, sizeof *argv);
	size_t k = 0;
	for (size_t i = 0; i < n; i++)
		argv[k++] = px->env.shell[i];
	/* A multi-line script stops at its first failing line, as make's recipes do. */
	if (j->cmd_lines > 1)
		argv[k++] = "-e";
	argv[k++] = "-c";
	argv[k++] = (char *)j->cmd;
	/* $0: a task's name, so the shell's messages name the task. */
	argv[k++] = j->task ? (char *)j->name : "sh";
	argv[k] = NULL;
	return argv;
}

static int start(struct executor *x, struct job *j, const struct executor_cb *cb, void *ud, void **handle)
{
	struct process_exec *px = (struct process_exec *)x;
	struct pjob *pj = xcalloc(1, sizeof *pj);
	pj->job = j;
	pj->cb = cb;
	pj->ud = ud;
	struct proc_spawn_opts so = {
		.envp = j->envp ? j->envp : px->env.envp,
		.dir = j->dir,
		.timeout_ms = j->timeout_ms,
		.grace_ms = px->env.grace_ms,
		.console = j->console,
		.stdin_fd = j->stdin_fd,
	};
	int err = -ENOENT;
	char **argv = px->env.direct && !j->envp && j->cmd_lines == 1 ? direct_argv(j->cmd) : NULL;
	if (argv) {
		so.argv = argv;
		so.path = which(px, argv[0]);
		if (so.path)
			err = proc_spawn(&pj->proc, px->env.loop, &so, &ops, pj);
		so.path = NULL;
		free_words(argv);
	}
	/* Not found or not runnable directly: the shell says why, as usual. */
	if (err == -ENOENT || err == -EACCES || err == -ENOEXEC) {
		argv = shell_argv(px, j);
		so.argv = argv;
		so.search_path = false;
		err = proc_spawn(&pj->proc, px->env.loop, &so, &ops, pj);
		free(argv);
	}
	/* The child has its own copy now; weft's would keep the pipe from
	 * ever telling the writer that the job has gone. */
	if (j->stdin_fd > 0) {
		close(j->stdin_fd);
		j->stdin_fd = 0;
	}
	if (err < 0) {
		free(pj);
		return err;
	}
	j->pid = pj->proc.pid;
	*handle = pj;
	return 0;
}

static void stop(struct executor *x, void *handle, enum executor_stop how)
{
	(void)x;
	struct pjob *pj = handle;
	switch (how) {
	case STOP_HARD:
		proc_kill(&pj->proc);
		break;
	case STOP_TIMEOUT:
		if (pj->proc.stopping)
			break;
		pj->proc.timed_out = true;
		/* fall through */
	case STOP_GRACEFUL:
		proc_stop(&pj->proc);
		break;
	case STOP_UNQUEUE:
		break; /* it started at once */
	}
}

static void pause_job(struct executor *x, void *handle, bool pause)
{
	(void)x;
	proc_pause(&((struct pjob *)handle)->proc, pause);
}

static void process_free(struct executor *x)
{
	struct process_exec *px = (struct process_exec *)x;
	proc_shutdown();
	hashtab_free(px->paths);
	for (size_t i = 0; i < px->npath_keys; i++)
		free(px->path_keys[i]);
	free(px->path_keys);
	free(px);
}

struct executor *executor_process_new(const struct executor_env *env)
{
	struct process_exec *px = xcalloc(1, sizeof *px);
	px->x.runs = runs;
	px->x.start = start;
	px->x.stop = stop;
	px->x.pause = pause_job;
	px->x.free = process_free;
	px->env = *env;
	return &px->x;
}
