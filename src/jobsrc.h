/* Where a run's jobs come from: the interface between the runner and the task graph or a fan-out's inputs. */
#ifndef WEFT_JOBSRC_H
#define WEFT_JOBSRC_H

#include <stdbool.h>

struct events;
struct job;
struct runner;

/* Every job a source hands out it has sent EV_QUEUED for (events_queue),
 * except hidden ones (job->capture); the runner sends the rest of its
 * life (started, output, finished). A source sends EV_SKIPPED for each
 * queued job that will never start, at the latest in finish(). */
struct jobsrc {
	/* Called once by the runner before anything else: the source may now
	 * queue jobs and use the runner. */
	void (*begin)(struct jobsrc *s);
	/* A job that may start now in -j slot `slot` (the runner starts it),
	 * or NULL. */
	struct job *(*next)(struct jobsrc *s, unsigned slot);
	/* Optional: a job failed; return true to run it again (it comes back
	 * through next()) instead of finishing it. */
	bool (*retry)(struct jobsrc *s, struct job *j);
	/* Optional: a job succeeded; return true to hold its EV_FINISHED while
	 * the source looks at what it left (a depfile, its outputs) off the
	 * loop. The source then calls runner_settled(), having set a failure
	 * in j's result if it found one. */
	bool (*settle)(struct jobsrc *s, struct job *j);
	/* A started job has finished; EV_FINISHED has been sent. The source
	 * may free it now. */
	void (*done)(struct jobsrc *s, struct job *j);
	/* Optional, with ahead_ok: after stop(), a job next() handed out that
	 * never started comes back; finish() reports it as never started. */
	void (*unstart)(struct jobsrc *s, struct job *j);
	/* Jobs may be handed out before they start (a cluster's runners hold
	 * them): nothing in them depends on the slot they are given or on
	 * when they start. */
	bool ahead_ok;
	/* Hand out no more jobs. */
	void (*stop)(struct jobsrc *s);
	/* At the end: send EV_SKIPPED for every queued job that never started,
	 * and close the source's own handles. */
	void (*finish)(struct jobsrc *s);
	/* Set by the runner for the run's length; NULL outside a run. */
	struct runner *runner;
	struct events *ev;
};

#endif
