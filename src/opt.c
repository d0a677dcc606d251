/* Helpers shared by the command-line parsers of weft and weft exec: option values and usage errors. */
#include "opt.h"

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
