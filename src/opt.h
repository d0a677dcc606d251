/* Helpers shared by the command-line parsers of weft and weft exec: option values and usage errors. */
#ifndef WEFT_OPT_H
#define WEFT_OPT_H

/* Parses a -d argument ("\n", "\t", "\r", "\0", "\\", or one character);
 * returns 0 and *out, or -1 (and leaves *out alone). */
int opt_parse_delimiter(const char *s, char *out);

#endif
