/* weft exec: one command over many inputs, as GNU parallel runs it — options, set-up and exit status. */
#ifndef WEFT_EXEC_H
#define WEFT_EXEC_H

/* Runs `weft exec` with argv[0] == "exec"; words are weft's own, for the
 * run's events. Returns the exit status, or -N when stopped by signal N
 * (the caller re-raises it). */
int exec_main(int argc, char **argv, char **words);

/* Parses a -j value: N, N% of the CPUs, +N or -N relative to them, or 0
 * (as many as the fd limit allows, at most 1024). Returns 0 and sets *out
 * (at least 1), or -1. */
int exec_parse_jobs(const char *s, unsigned *out);

struct halt;
/* Parses GNU parallel's --halt value: never, now|soon,fail|success|done=N|N%.
 * Returns 0 and fills h, or -1. */
int halt_parse(const char *s, struct halt *h);

#endif
