/* Quoting for POSIX sh: turns any bytes into one shell word that expands back to exactly those bytes. */
#ifndef WEFT_QUOTE_H
#define WEFT_QUOTE_H

#include <stddef.h>

struct buf;

/* Appends s[0..len) to b as one word for /bin/sh (dash, and bash too) that
 * the command receives as exactly those bytes, wherever the word stands.
 * Words made only of [A-Za-z0-9_./,:+=@%^-] go in bare, except a reserved
 * word ("if", "done", ...) and a word that would read as an assignment
 * (NAME=...), which could change meaning in the command's first position.
 * Everything else goes in single quotes, with ' written as '\''; the empty
 * string is ''. A NUL byte cannot reach a command through argv, so NULs are
 * dropped rather than cutting the command line short. Never fails. */
void shell_quote(struct buf *b, const char *s, size_t len);

#endif
