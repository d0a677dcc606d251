/* Quoting for POSIX sh: turns any bytes into one shell word that expands back to exactly those bytes. */
#include "quote.h"

#include <stdbool.h>
#include <string.h>

#include "util.h"

/* The bytes a word may hold unquoted: letters, digits and _./,:+=@%^-
 * (a table: every item of every command is looked at byte by byte). */
static const bool bare[256] = {
	['a'] = 1, ['b'] = 1, ['c'] = 1, ['d'] = 1, ['e'] = 1, ['f'] = 1, ['g'] = 1, ['h'] = 1, ['i'] = 1,
	['j'] = 1, ['k'] = 1, ['l'] = 1, ['m'] = 1, ['n'] = 1, ['o'] = 1, ['p'] = 1, ['q'] = 1, ['r'] = 1,
	['s'] = 1, ['t'] = 1, ['u'] = 1, ['v'] = 1, ['w'] = 1, ['x'] = 1, ['y'] = 1, ['z'] = 1,
	['A'] = 1, ['B'] = 1, ['C'] = 1, ['D'] = 1, ['E'] = 1, ['F'] = 1, ['G'] = 1, ['H'] = 1, ['I'] = 1,
	['J'] = 1, ['K'] = 1, ['L'] = 1, ['M'] = 1, ['N'] = 1, ['O'] = 1, ['P'] = 1, ['Q'] = 1, ['R'] = 1,
	['S'] = 1, ['T'] = 1, ['U'] = 1, ['V'] = 1, ['W'] = 1, ['X'] = 1, ['Y'] = 1, ['Z'] = 1,
	['0'] = 1, ['1'] = 1, ['2'] = 1, ['3'] = 1, ['4'] = 1, ['5'] = 1, ['6'] = 1, ['7'] = 1, ['8'] = 1,
	['9'] = 1, ['_'] = 1, ['.'] = 1, ['/'] = 1, [','] = 1, [':'] = 1, ['+'] = 1, ['='] = 1, ['@'] = 1,
	['%'] = 1, ['^'] = 1, ['-'] = 1,
};

static bool is_bare(unsigned char c)
{
	return bare[c];
}

/* Reserved words of POSIX sh and bash: bare, they are syntax, not a command. */
static bool is_reserved(const char *s, size_t len)
{
	static const char *const words[] = {
		"case", "do", "done", "elif", "else", "esac", "fi", "for", "if",
		"in", "then", "until", "while", "function", "select", "time", "coproc",
	};
	/* None is longer, and every one is lowercase letters. */
	if (len > 8 || s[0] < 'a' || s[0] > 'z')
		return false;
	for (size_t i = 0; i < sizeof words / sizeof *words; i++)
		if (words[i][0] == s[0] && strlen(words[i]) == len && memcmp(words[i], s, len) == 0)
			return true;
	return false;
}

/* NAME=... in a command's first position is an assignment, not a word. */
static bool is_assignment(const char *s, size_t len)
{
	if (len == 0 || !((s[0] >= 'a' && s[0] <= 'z') || (s[0] >= 'A' && s[0] <= 'Z') || s[0] == '_'))
		return false;
	for (size_t i = 1; i < len; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c == '=')
			return true;
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_'))
			return false;
	}
	return false;
}

static bool needs_quotes(const char *s, size_t len)
{
	if (len == 0)
		return true;
	bool eq = false;
	for (size_t i = 0; i < len; i++) {
		if (!is_bare((unsigned char)s[i]))
			return true;
		eq |= s[i] == '=';
	}
	return is_reserved(s, len) || (eq && is_assignment(s, len));
}

void shell_quote(struct buf *b, const char *s, size_t len)
{
	if (!needs_quotes(s, len)) {
		buf_add(b, s, len);
		return;
	}
	buf_add(b, "'", 1);
	size_t start = 0;
	for (size_t i = 0; i < len; i++) {
		if (s[i] != '\'' && s[i] != '\0')
			continue;
		buf_add(b, s + start, i - start);
		if (s[i] == '\'')
			buf_add(b, "'\\''", 4);
		start = i + 1;
	}
	buf_add(b, s + start, len - start);
	buf_add(b, "'", 1);
}
