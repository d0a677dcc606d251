/* A pool of worker threads for CPU-heavy work, whose results come back to the loop thread as messages. */
#ifndef WEFT_POOL_H
#define WEFT_POOL_H

#include <uv.h>

struct pool;

/* A message from a worker to the loop thread. The poster owns it until
 * deliver() runs on the loop thread; deliver() may free it. */
struct pool_msg {
	void (*deliver)(struct pool_msg *m);
	struct pool_msg *next; /* the pool's */
};

/* One item of work. The submitter owns it; the pool borrows it from
 * pool_submit() until after() has been called. */
struct pool_work {
	/* Runs on a worker thread: it may touch only this item (and what the
	 * item alone owns), never the graph, output or status. */
	void (*work)(struct pool_work *w);
	/* Runs on the loop thread once work() has returned and every message it
	 * posted has been delivered. It may free w, submit more work or close
	 * the pool. */
	void (*after)(struct pool_work *w);
	/* The pool's. */
	struct pool *pool;
	struct pool_work *next;
	struct pool_msg done;
};

/* Makes a pool of at most nthreads threads (0 counts as 1) on loop; threads
 * start lazily, as work arrives. Returns 0 and sets *out, or a negative UV_E*
 * code when the loop's wake-up handle cannot be made. The pool keeps the loop
 * alive only while it has work outstanding. */
int pool_new(uv_loop_t *loop, unsigned nthreads, struct pool **out);

/* Queues w (loop thread only, not after pool_close()). Returns 0, or a
 * negative UV_E* code when no thread could be started to run it: w is then
 * not queued and after() is never called. */
int pool_submit(struct pool *p, struct pool_work *w);

/* Hands m to the loop thread: deliver(m) runs there, in posting order with
 * the other messages and completions. Call it from work(), for that work
 * item: the loop stays alive only while work is outstanding. */
void pool_post(struct pool *p, struct pool_msg *m);

/* Closes the pool (loop thread only; at most once): no more submissions;
 * work already queued still runs and its after() is still called. Then the
 * threads end and the wake-up handle closes, and closed(p) runs on the loop
 * thread, after which p is freed. Work that never ends keeps the pool open:
 * ask it to stop first (see step_job_cancel). */
void pool_close(struct pool *p, void (*closed)(struct pool *p));

#endif
