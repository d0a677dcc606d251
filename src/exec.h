/* weft exec: one command over many inputs, as GNU parallel runs it — options, set-up and exit status. */
#ifndef WEFT_EXEC_H
#define WEFT_EXEC_H

/* Runs `weft exec` with argv[0] == "exec". Returns the exit status, or
 * -N when stopped by signal N (the caller re-raises it). */
int exec_main(int argc, char **argv);

#endif
