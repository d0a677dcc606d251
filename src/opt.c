/* Helpers shared by the command-line parsers of weft and weft exec: option values and usage errors. */
#include "opt.h"

#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <uv.h>

#include "util.h"

int opt_bad(const char *prog, const char *fmt, const char *arg)
{
	fprintf(stderr, "%s: ", prog);
	fprintf(stderr, fmt, arg);
	fprintf(stderr, "\nTry '%s --help' for more information.\n", prog);
	return -1;
}

int opt_bad_getopt(const char *prog, int ch, char **argv)
{
	if (ch == ':')
		return opt_bad(prog, "option '%s' needs a value", argv[optind - 1]);
	if (optopt)
		return opt_bad(prog, "unknown option '-%s'", (char[]){(char)optopt, 0});
	return opt_bad(prog, "unknown option '%s'", argv[optind - 1]);
}

int opt_parse_delimiter(const char *s, char *out)
{
	if (s[0] == '\\' && s[1] && !s[2]) {
		switch (s[1]) {
		case 'n': *out = '\n'; return 0;
		case 't': *out = '\t'; return 0;
		case 'r': *out = '\r'; return 0;
		case '0': *out = '\0'; return 0;
		case '\\': *out = '\\'; return 0;
		default: return -1;
		}
	}
	if (s[0] && !s[1]) {
		*out = s[0];
		return 0;
	}
	return -1;
}

int opt_parse_cluster(const char *s, unsigned *out)
{
	if (strcmp(s, "auto") == 0) {
		*out = uv_available_parallelism();
		return 0;
	}
	return parse_count(s, out);
}

int opt_parse_requeue(const char *s, unsigned *out)
{
	if (strcmp(s, "0") == 0) {
		*out = 0;
		return 0;
	}
	return parse_count(s, out);
}
