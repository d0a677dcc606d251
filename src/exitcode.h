/* weft's exit statuses, in one place (man/weft.1, EXIT STATUS, lists the same). */
#ifndef WEFT_EXITCODE_H
#define WEFT_EXITCODE_H

enum exit_status {
	EXIT_OK = 0,        /* every task succeeded */
	EXIT_FAILED = 1,    /* a task failed, timed out or could not start */
	EXIT_USAGE = 2,     /* bad option, bad recipe, unknown task: nothing ran */
	EXIT_SIGNAL = 128,  /* + N: stopped by signal N (weft re-raises it) */
};

#define WEFT_VERSION "0.1.0"

#endif
