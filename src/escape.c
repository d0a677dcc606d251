/* Backslash escapes that keep a text field on one line and free of tabs: \\ \t \n \r, for the formats of .weft/state and the job log. */
#include "escape.h"

#include <string.h>

#include "util.h"

void escape_add(struct buf *b, const char *s, const char *which)
{
	const char *run = s;
	for (; *s; s++) {
		char e[2] = {'\\', 0};
		switch (*s) {
		case '\\': e[1] = '\\'; break;
		case '\t': e[1] = 't'; break;
		case '\n': e[1] = 'n'; break;
		case '\r': e[1] = 'r'; break;
		default: continue;
		}
		if (!strchr(which, *s))
			continue;
		buf_add(b, run, (size_t)(s - run));
		buf_add(b, e, 2);
		run = s + 1;
	}
	buf_add(b, run, (size_t)(s - run));
}

int escape_decode(char c, const char *which)
{
	char byte;
	switch (c) {
	case '\\': byte = '\\'; break;
	case 't': byte = '\t'; break;
	case 'n': byte = '\n'; break;
	case 'r': byte = '\r'; break;
	default: return -1;
	}
	return strchr(which, byte) ? byte : -1;
}

void escape_controls(struct buf *b, const char *s)
{
	const unsigned char *p = (const unsigned char *)s, *run = p;
	for (; *p; p++) {
		/* One test for the printable bytes names are made of. */
		if (*p >= 0x20 && *p != 0x7f)
			continue;
		if (*p != '\t') {
			/* The plain bytes before it at once: names are mostly plain. */
			buf_add(b, run, (size_t)(p - run));
			buf_addf(b, "\\x%02x", *p);
			run = p + 1;
		}
	}
	buf_add(b, run, (size_t)(p - run));
}
