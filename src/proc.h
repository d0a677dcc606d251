/* One child process: spawned into its own process group, its output read and its exit watched on the loop, stopped as a group. */
#ifndef WEFT_PROC_H
#define WEFT_PROC_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include <termios.h>
#include <uv.h>

struct proc;

struct proc_ops {
	/* stream: 1 stdout, 2 stderr. data is valid only during the call. */
	void (*output)(struct proc *p, int stream, const char *data, size_t len);
	/* The child has exited and its output is drained (or abandoned). */
	void (*done)(struct proc *p);
	/* Every handle is closed: the caller may free p now. */
	void (*closed)(struct proc *p);
	/* A process of p's group stopped (see stopped.h): why, for a message
	 * ("it wants the terminal"). Optional. */
	void (*stopped)(struct proc *p, const char *why);
};

struct proc {
	uv_loop_t *loop;
	const struct proc_ops *ops;
	void *data;            /* the owner's */
	pid_t pid;             /* also the process group id */
	int pidfd;             /* -1: none (watched through SIGCHLD instead) */
	int guard;             /* its slot in the guard (guard.h); -1: none */
	struct proc *next_unwatched;
	bool unref;            /* proc_set_ref(false): the loop does not wait for it */
	uv_poll_t exit_watch;  /* pidfd readable: the child has exited */
	uv_pipe_t out[2];      /* stdout, stderr */
	bool out_open[2];
	uv_timer_t timer;      /* timeout, then the grace before SIGKILL */
	uint64_t grace_ms;
	int handles;           /* open handles; closed() when it drops to 0 */
	bool exited;
	bool is_done;
	int status;            /* waitpid status, valid once exited */
	bool timed_out;
	bool stopping;         /* SIGTERM sent, SIGKILL pending */
	uint64_t paused_timer; /* while paused: suspend_timer()'s value */
	bool paused;           /* stopped by weft itself (Ctrl-Z) */
	int tty;               /* console: the terminal it has, given back when it ends; -1: none */
	struct termios *modes; /* console: the terminal's modes before it, restored after */
	struct termios *job_modes; /* console, while weft is stopped: the job's modes, for when it goes on */
	bool stop_reported;    /* a stop of its group was reported; until SIGCONT */
	struct proc *next_live, **prev_live; /* in the list of live children */
};

struct proc_spawn_opts {
	char *const *argv;
	char *const *envp;
	const char *dir;       /* NULL: inherit */
	bool search_path;      /* look argv[0] up in weft's PATH */
	const char *path;      /* the program to run; NULL: argv[0] */
	uint64_t timeout_ms;   /* 0: none */
	uint64_t grace_ms;
	int stdin_fd;          /* > 0: the child's stdin; 0: /dev/null */
	int fd3;               /* > 2: given to the child as its fd 3 (a cluster runner's link); else none */
	bool console;          /* weft's terminal, when it has one in the foreground, as stdin, stdout
				* and stderr, the child's group in the foreground; else as usual */
};

/* Process-wide set-up: stdin for children (/dev/null). Returns 0 or a UV_E* code. */
int proc_setup(void);

/* Starts argv. Returns 0, or a negative UV_E* code when nothing was started
 * (p needs no close then). */
int proc_spawn(struct proc *p, uv_loop_t *loop, const struct proc_spawn_opts *o,
	       const struct proc_ops *ops, void *data);

/* Every child spawned from now on inherits fds a and b (>= 0) at the same
 * numbers (they are left open on exec; the ones passed before are closed
 * on exec again): a jobserver's R,W. -1, -1: none (the start). */
void proc_pass_fds(int a, int b);

/* The children spawned and not yet reaped, each leading its process
 * group; follow next_live. */
struct proc *proc_live(void);

/* Closes the SIGCHLD watcher, if one was needed; at the end of a run. */
void proc_shutdown(void);

/* Whether p's handles keep the loop running (they do, from proc_spawn). */
void proc_set_ref(struct proc *p, bool ref);

/* SIGTERM to the whole group, SIGKILL after the grace period. */
void proc_stop(struct proc *p);
/* SIGKILL to the whole group now. */
void proc_kill(struct proc *p);

/* Ctrl-Z: SIGSTOP to p's group and its timer held (pause true), or SIGCONT
 * and the timer going on from where it was. */
void proc_pause(struct proc *p, bool pause);

#endif
