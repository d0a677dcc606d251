/* Make-format dependency files, as gcc -MD and clang -MD write them: the files a command read, for the up-to-date checks. */
#ifndef WEFT_DEPFILE_H
#define WEFT_DEPFILE_H

#include <stddef.h>

struct strlist;

/*
 * Parses text (len bytes; it is changed in place) as make rules
 * "TARGET...: DEP..." and appends every DEP of every rule to deps, each
 * once, in the order first seen. Understood as ninja's deps = gcc does:
 * backslash-newline continues a line; "\ " is a space in a name (2N+1
 * backslashes and a blank: N backslashes and the blank; 2N: the
 * backslashes, then the name ends); "\#" is '#'; "$$" is '$'; several
 * targets, several rules and the empty rules of gcc -MP ("x.h:") are
 * fine; a ':' followed by a name character (C:\x) is part of the name.
 * Returns 0, or -1 with *line (from 1) and *msg (the caller frees it)
 * saying what is wrong: a rule with no ':', a ':' with no target, a
 * second ':' in one rule, a NUL byte.
 */
int depfile_parse(char *text, size_t len, struct strlist *deps, int *line, char **msg);

/* Reads path (relative to dir, NULL: the current directory), parses it as
 * depfile_parse() does and then deletes it. Returns 0, or -1 with *msg
 * (owned by the caller): "cannot read depfile 'P': REASON" or
 * "depfile 'P' line N: WHAT". Any thread. */
int depfile_read(const char *dir, const char *path, struct strlist *deps, char **msg);

#endif
