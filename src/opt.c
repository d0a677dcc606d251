/* Helpers shared by the command-line parsers of weft and weft exec: option values and usage errors. */
#include "opt.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
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

int opt_bad_getopt(const char *prog, int ch, char **argv, const struct option *longopts)
{
	if (ch == ':')
		return opt_bad(prog, "option '%s' needs a value", argv[optind - 1]);
	if (optopt)
		return opt_bad(prog, "unknown option '-%s'", (char[]){(char)optopt, 0});
	/* --name or --name=value: the nearest option's name, if one is near. */
	const char *arg = argv[optind - 1];
	size_t nopts = 0;
	while (longopts[nopts].name)
		nopts++;
	const char **names = xcalloc(nopts + 1, sizeof *names);
	for (size_t i = 0; i < nopts; i++)
		names[i] = longopts[i].name;
	char *word = xstrdup(arg + strspn(arg, "-"));
	word[strcspn(word, "=")] = '\0';
	const char *hint = *word ? suggest_word(word, names) : NULL;
	int r;
	if (hint) {
		char *msg = xasprintf("unknown option '%%s' (did you mean '--%s'?)", hint);
		r = opt_bad(prog, msg, arg);
		free(msg);
	} else {
		r = opt_bad(prog, "unknown option '%s'", arg);
	}
	free(word);
	free(names);
	return r;
}

char *opt_unescape(const char *s, size_t *len)
{
	char *out = xmalloc(strlen(s) + 1);
	size_t n = 0;
	for (; *s; s++) {
		const char *esc = s[0] == '\\' && s[1] ? strchr("0rnt'\"\\", s[1]) : NULL;
		if (!esc) {
			out[n++] = *s;
			continue;
		}
		s++;
		out[n++] = *s == '0' ? '\0' : *s == 'r' ? '\r' : *s == 'n' ? '\n' : *s == 't' ? '\t' : *s;
	}
	out[n] = '\0';
	*len = n;
	return out;
}

int opt_cpus(const char *s, bool fractions, double *out, bool *bare)
{
	int sign = *s == '+' ? 1 : *s == '-' ? -1 : 0;
	const char *p = s + (sign != 0);
	const char *end;
	double v;
	if (fractions) {
		char *e;
		v = strtod(p, &e);
		end = e != p && v >= 0 && v < 1e9 ? e : NULL;
	} else {
		unsigned long long n;
		end = parse_uint(p, 100000, &n);
		v = (double)n;
	}
	if (!end || (*end && !(*end == '%' && !end[1] && !sign)))
		return -1;
	double cpus = uv_available_parallelism();
	if (*end == '%')
		v = fractions ? cpus * v / 100 : (double)((unsigned long long)cpus * (unsigned long long)v / 100);
	else if (sign)
		v = cpus + sign * v;
	*out = v;
	*bare = !sign && !*end;
	return 0;
}

static int parse_cluster(const char *s, unsigned *out)
{
	if (strcmp(s, "auto") == 0) {
		*out = uv_available_parallelism();
		return 0;
	}
	return parse_count(s, out);
}

static int parse_requeue(const char *s, unsigned *out)
{
	if (strcmp(s, "0") == 0) {
		*out = 0;
		return 0;
	}
	return parse_count(s, out);
}

void opt_run_init(struct opt_run *r)
{
	memset(r, 0, sizeof *r);
	r->requeue = 1;
}

int opt_run_parse(struct opt_run *r, const char *prog, int ch, const char *arg, char **argv,
		  const struct option *longopts)
{
	switch (ch) {
	case OPT_EVENTS:
		if (!*arg)
			return opt_bad(prog, "invalid value '%s' for --events (a file, or - for stdout)", arg);
		r->events = arg;
		return 0;
	case OPT_EVENTS_OUTPUT:
		r->events_output = true;
		return 0;
	case OPT_CLUSTER:
		if (parse_cluster(arg, &r->cluster) < 0)
			return opt_bad(prog, "invalid value '%s' for --cluster (a number from 1, or auto)", arg);
		return 0;
	case OPT_JUNIT:
		if (!*arg)
			return opt_bad(prog, "invalid value '%s' for --junit (a file)", arg);
		r->junit = arg;
		return 0;
	case OPT_TRACE:
		if (!*arg)
			return opt_bad(prog, "invalid value '%s' for --trace (a file)", arg);
		r->trace = arg;
		return 0;
	case OPT_REPORT:
		if (!*arg)
			return opt_bad(prog, "invalid value '%s' for --report (a file)", arg);
		r->report = arg;
		return 0;
	case OPT_JOBSERVER_STYLE:
		if (jobserver_style_parse(arg, &r->jobserver_style) < 0)
			return opt_bad(prog, "invalid value '%s' for --jobserver-style (pipe or fifo)", arg);
		return 0;
	case OPT_REQUEUE:
		if (parse_requeue(arg, &r->requeue) < 0)
			return opt_bad(prog, "invalid value '%s' for --requeue (a number from 0)", arg);
		return 0;
	default:
		return opt_bad_getopt(prog, ch, argv, longopts);
	}
}

int opt_run_check(const struct opt_run *r, const char *prog)
{
	if (r->events_output && !r->events)
		return opt_bad(prog, "%s needs --events=FILE", "--events-output");
	return 0;
}
