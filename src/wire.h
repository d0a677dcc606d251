/* The wire form of a run's events: JSON Lines, one object per event, as --events writes them; one encoder and one decoder. */
#ifndef WEFT_WIRE_H
#define WEFT_WIRE_H

#include <stddef.h>
#include <stdint.h>

#include "events.h"
#include "graph.h"
#include "outrules.h"
#include "util.h"

/* The schema's version, in every run-start; man/weft.1 documents it. */
#define WIRE_SCHEMA 1

/* Appends e (not EV_TICK) to out as one JSON object and a newline. t_us:
 * microseconds since the run started. Bytes that are not UTF-8 in a
 * string are written as \u0080..\u00ff, which the decoder turns back into
 * those bytes, so any name, command or output survives. */
void wire_encode(const struct event *e, uint64_t t_us, struct buf *out);

/* Appends s (n bytes) as a JSON string, as wire_encode writes strings. */
void wire_add_str(struct buf *out, const char *s, size_t n);

/* Appends captures as a JSON object, name: value. */
void wire_add_captures(struct buf *out, const struct capture *c, size_t n);

/* A job for a cluster's runner: its queued event with all a runner needs
 * to run it (lines, dir, timeout, env). */
void wire_encode_job(const struct job *j, struct buf *out);
/* A request to stop job id: how is "graceful", "hard" or "timeout". */
void wire_encode_stop(unsigned long long id, const char *how, struct buf *out);

/* One decoded event; it owns everything it points to. Do not copy it:
 * its job points into it. */
struct wire_event {
	struct event ev;   /* ev.job points at job (job events; a message's, when it names one); ev.run at run */
	struct job job;    /* job.task: NULL, or task_stub, which holds only the task's name */
	struct task task_stub; /* and its dep_names, ndeps: the queued event's deps */
	struct outcheck check; /* a finished event's why and captures; job.check points here when it has them */
	struct run_info run;
	uint64_t t_us;
	char **owned;      /* every string the event holds */
	size_t nowned, owned_cap;
};

/* Decodes one line (without its newline) into w. Returns 0, or -EINVAL
 * when it is not an event of this schema (w then holds nothing). */
int wire_decode(const char *line, size_t len, struct wire_event *w);
void wire_event_release(struct wire_event *w);

#endif
