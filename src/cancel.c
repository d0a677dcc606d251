/* The run's cancel flag: raised on the loop thread when a signal stops the run, read by work on worker threads between files. */
#include "cancel.h"

#include <stdatomic.h>

/* A signal reaches the loop at once, but a worker hashing a large file or
 * walking a '**' over a big tree would keep the run (and so weft) going
 * until it ends: workers look at this between files and between reads. */
static atomic_int raised;

void cancel_raise(void)
{
	atomic_store_explicit(&raised, 1, memory_order_relaxed);
}

void cancel_clear(void)
{
	atomic_store_explicit(&raised, 0, memory_order_relaxed);
}

bool cancel_raised(void)
{
	return atomic_load_explicit(&raised, memory_order_relaxed) != 0;
}
