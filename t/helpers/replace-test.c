/* Test driver for quote.c and tmpl.c: expands one command template for one input, or quotes strings.
 *
 *   replace-test [--seq N] [--slot N] WORD... -- ARG...
 *   replace-test --each WORD... -- ARG...
 *   replace-test --quote STRING...
 *
 * Prints the result and a newline; exits 2 on a usage error. --each expands
 * the template once per ARG, each its own input (numbered from 1), one
 * result per line; --quote prints the quoted strings separated by spaces. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "quote.h"
#include "tmpl.h"
#include "util.h"

static int usage(void)
{
	fputs("usage: replace-test [--seq N] [--slot N] WORD... -- ARG...\n"
	      "       replace-test --each WORD... -- ARG...\n"
	      "       replace-test --quote STRING...\n", stderr);
	return 2;
}

static int print(struct buf *b)
{
	buf_add(b, "\n", 1);
	fwrite(b->p, 1, b->len, stdout);
	buf_release(b);
	return fflush(stdout) == 0 ? 0 : 1;
}

static int parse_num(const char *s, unsigned long long *n)
{
	char *end;
	if (*s < '0' || *s > '9')
		return -1;
	*n = strtoull(s, &end, 10);
	return *end ? -1 : 0;
}

static int each(int argc, char **argv)
{
	int sep = 0;
	while (sep < argc && strcmp(argv[sep], "--") != 0)
		sep++;
	if (sep == argc)
		return usage();
	struct tmpl *t = tmpl_new(argv, (size_t)sep);
	int rc = 0;
	for (int k = sep + 1; k < argc && rc == 0; k++) {
		const char *args[1] = {argv[k]};
		size_t lens[1] = {strlen(argv[k])};
		struct tmpl_input in = {.seq = (unsigned long long)(k - sep), .slot = 1, .nargs = 1, .args = args, .lens = lens};
		struct buf out;
		buf_init(&out);
		tmpl_expand(t, &in, &out);
		rc = print(&out);
	}
	tmpl_free(t);
	return rc;
}

int main(int argc, char **argv)
{
	struct buf out;
	buf_init(&out);
	if (argc >= 3 && strcmp(argv[1], "--quote") == 0) {
		for (int k = 2; k < argc; k++) {
			if (k > 2)
				buf_add(&out, " ", 1);
			shell_quote(&out, argv[k], strlen(argv[k]));
		}
		return print(&out);
	}
	if (argc >= 3 && strcmp(argv[1], "--each") == 0)
		return each(argc - 2, argv + 2);

	struct tmpl_input in = { .seq = 1, .slot = 1 };
	int i = 1;
	for (; i + 1 < argc; i += 2) {
		unsigned long long n;
		if (strcmp(argv[i], "--seq") == 0 && parse_num(argv[i + 1], &n) == 0)
			in.seq = n;
		else if (strcmp(argv[i], "--slot") == 0 && parse_num(argv[i + 1], &n) == 0)
			in.slot = (unsigned)n;
		else
			break;
	}
	int sep = i;
	while (sep < argc && strcmp(argv[sep], "--") != 0)
		sep++;
	if (sep == argc)
		return usage();

	in.nargs = (size_t)(argc - sep - 1);
	in.args = (const char *const *)argv + sep + 1;
	size_t *lens = xcalloc(in.nargs, sizeof *lens);
	for (size_t j = 0; j < in.nargs; j++)
		lens[j] = strlen(in.args[j]);
	in.lens = lens;

	struct tmpl *t = tmpl_new(argv + i, (size_t)(sep - i));
	tmpl_expand(t, &in, &out);
	tmpl_free(t);
	free(lens);
	return print(&out);
}
