/* Built-in steps: the interface each src/steps/ file implements, and how the loop runs one as a job on the pool. */
#ifndef WEFT_STEP_H
#define WEFT_STEP_H

#include <stddef.h>

struct buf;
struct pool;

/* A step's exit status, like grep's. */
enum { STEP_OK = 0, STEP_NONE = 1 /* e.g. grep selected no line */, STEP_ERROR = 2 };

/* What a running step writes to: output that reaches the loop in chunks
 * while the step runs (memory stays bounded), and the --output file when the
 * step asked for one. Only the step's own worker thread touches it. */
struct step_out;

struct step_def {
	const char *name;
	const char *usage; /* "hash [--algo=sha256|xxh128] [--output=FILE] PATH..." */
	/* Validates the arguments at recipe load time (any thread). argv[0] is
	 * the step's name; argv[argc] is NULL. Returns 0, or -1 and sets *err to
	 * a malloc'd message without the place, lowercase, no full stop:
	 * "invalid regex 'a(': missing closing parenthesis at offset 2". */
	int (*check)(int argc, char *const *argv, char **err);
	/* Runs on a worker thread, with arguments check() accepted. Touches only
	 * its own memory and files, writes through out, and calls step_poll()
	 * between chunks of work, stopping when it says so. Returns STEP_OK,
	 * STEP_NONE or STEP_ERROR (after saying why with step_error()). */
	int (*run)(int argc, char *const *argv, struct step_out *out);
	/* Appends to b a command for /bin/sh that does what run() does with
	 * these arguments (check() accepted them), with the tools the step
	 * imitates (weft -n prints it). */
	void (*shell)(int argc, char *const *argv, struct buf *b);
};

/* The step called name, or NULL (src/steps/steps.c holds the table). */
const struct step_def *step_find(const char *name);
/* The table, NULL-terminated, for "did you mean" hints and listings. */
extern const struct step_def *const step_table[];

/* --- For steps, on their worker thread --- */

/* Appends len bytes to stream 1 (stdout) or 2 (stderr). Output reaches the
 * loop in chunks of 64 KiB; when too many chunks wait there unconsumed, this
 * blocks until the loop catches up. After step_redirect(), stream 1 goes to
 * that file instead. Returns 0, or -1 when the step should stop: the job was
 * cancelled or the output file cannot be written (already reported). */
int step_write(struct step_out *o, int stream, const char *data, size_t len);

/* Reports an error on stream 2 as "weft: NAME: MESSAGE\n". step_error_errno
 * adds ": " and strerror(err): "weft: hash: cannot read 'x': Permission denied". */
void step_error(struct step_out *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void step_error_errno(struct step_out *o, int err, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* Call between chunks of work (every read, say). Hands output older than
 * 100 ms to the loop, so a slow step's output still shows. Returns non-zero
 * when the job was cancelled: the step should return at once. */
int step_poll(struct step_out *o);

/* How long a step waits at most in one read_wait() for a file that has
 * nothing yet (a FIFO): the longest it may take to see that it is stopped. */
#define STEP_WAIT_MS 100

/* A path the step was given, as it is to be opened: below the task's dir
 * when relative (the step runs on a thread, so it cannot chdir). Caller
 * frees. */
char *step_path(const struct step_out *o, const char *path);

/* Sends stream 1 to path instead: to a new temporary file beside it (mode
 * 0644, close-on-exec) that replaces path by rename() only when the step
 * returns STEP_OK or STEP_NONE and was not cancelled; otherwise it is
 * removed, so a failed step never leaves a partial file under path's name.
 * Returns 0, or -1 (reported) when the temporary file cannot be made. */
int step_redirect(struct step_out *o, const char *path);

/* For a step's shell(): appends each of the n words, quoted for sh, after
 * a blank, then " > OUTPUT" when output is not NULL. */
void step_shell_args(struct buf *b, int n, char *const *words, const char *output);

/* --- For the loop thread --- */

struct step_job;

struct step_job_ops {
	/* stream 1 or 2; data is valid only during the call. */
	void (*output)(struct step_job *j, int stream, const char *data, size_t len);
	/* The step has ended with status (STEP_OK, STEP_NONE, STEP_ERROR) after
	 * every output call. j is freed when this returns. */
	void (*done)(struct step_job *j, int status);
};

/* Starts def with argv (argc words, copied: the caller's may go) on pool.
 * data is the caller's, see step_job_data(). Returns 0 and sets *out, or a
 * negative UV_E* code when it could not start (no job then, no callbacks). */
int step_job_start(struct pool *pool, const struct step_def *def, int argc, char *const *argv, const char *dir,
		   const struct step_job_ops *ops, void *data, struct step_job **out);

/* Asks the step to stop: it sees it at its next step_poll() or step_write()
 * (a step blocked in read() finishes that read first). done() still comes,
 * with STEP_ERROR unless the step had already finished; the --output file,
 * if any, is then left as it was. Output already on its way still arrives;
 * the rest is dropped. Loop thread; j must not have reached done(). */
void step_job_cancel(struct step_job *j);

void *step_job_data(struct step_job *j);

#endif
