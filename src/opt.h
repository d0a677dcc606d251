/* Helpers shared by the command-line parsers of weft and weft exec: option values and usage errors. */
#ifndef WEFT_OPT_H
#define WEFT_OPT_H

/* Prints a usage error on stderr: "PROG: " and fmt with arg (fmt has one
 * %s), then "Try 'PROG --help' for more information.". Returns -1, for a
 * parser to return it. */
int opt_bad(const char *prog, const char *fmt, const char *arg);

/* The usage error for what getopt_long() returned with opterr 0 and an
 * optstring that starts with ':' (after any '+'): ch ':' is "option 'X'
 * needs a value", anything else "unknown option 'X'". Returns -1. */
int opt_bad_getopt(const char *prog, int ch, char **argv);

/* Parses a -d argument ("\n", "\t", "\r", "\0", "\\", or one character);
 * returns 0 and *out, or -1 (and leaves *out alone). */
int opt_parse_delimiter(const char *s, char *out);

/* --cluster's value: N from 1, or auto (the CPUs). Returns 0 and *out, or -1. */
int opt_parse_cluster(const char *s, unsigned *out);
/* --requeue's value: N from 0. Returns 0 and *out, or -1. */
int opt_parse_requeue(const char *s, unsigned *out);

#endif
