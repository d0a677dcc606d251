/* The run's cancel flag: raised on the loop thread when a signal stops the run, read by work on worker threads between files. */
#ifndef WEFT_CANCEL_H
#define WEFT_CANCEL_H

#include <stdbool.h>

/* Raises the flag (any thread; async-signal-safe). */
void cancel_raise(void);

/* Lowers it, for a new run (loop thread, no work outstanding). */
void cancel_clear(void);

/* Whether long work (hashing sources, walking a glob, reading a list of
 * items) should give up now: it then returns -ECANCELED and what it has
 * measured counts for nothing. */
bool cancel_raised(void);

#endif
