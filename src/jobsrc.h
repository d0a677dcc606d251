/* Where a run's jobs come from: the interface between the runner and the task graph or a fan-out's inputs. */
#ifndef WEFT_JOBSRC_H
#define WEFT_JOBSRC_H

#include <stdbool.h>

struct job;

struct jobsrc {
	/* A job that may start now in -j slot `slot` (the runner starts it),
	 * or NULL. */
	struct job *(*next)(struct jobsrc *s, unsigned slot);
	/* Optional: a job failed; return true to run it again (it comes back
	 * through next()) instead of finishing it. */
	bool (*retry)(struct jobsrc *s, struct job *j);
	/* A started job has finished; EV_FINISHED has been sent. The source
	 * may free it now. */
	void (*done)(struct jobsrc *s, struct job *j);
	/* Hand out no more jobs. */
	void (*stop)(struct jobsrc *s);
	/* At the end: send EV_SKIPPED for every job that never started. */
	void (*finish)(struct jobsrc *s);
	/* Set by the runner: call it when jobs become available outside
	 * done() (input that arrives later, say). */
	void (*kick)(void *runner);
	void *runner;
};

#endif
