/* The sink that appends each finished job to the job log (--joblog). */
#ifndef WEFT_LOGSINK_H
#define WEFT_LOGSINK_H

struct sink;
struct joblog;

/* on_error is called once, after the message, when a record cannot be
 * written (the run should then start nothing more). */
struct sink *logsink_new(struct joblog *jl, const char *path, void (*on_error)(void *ud), void *ud);
void logsink_free(struct sink *s);
/* True when a record could not be written. */
int logsink_failed(const struct sink *s);

#endif
