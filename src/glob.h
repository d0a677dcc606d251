/* File name patterns with '**' (any depth of directories), expanded in sorted order. */
#ifndef WEFT_GLOB_H
#define WEFT_GLOB_H

#include <stdbool.h>
#include <stddef.h>

struct strlist {
	char **v;
	size_t n, cap;
};

void strlist_add(struct strlist *l, const char *s);
void strlist_release(struct strlist *l);

/* True when s holds a pattern character (* ? [). */
bool glob_is_pattern(const char *s);

/* True when s is a plain name that glob_expand() hands out unchanged
 * when it exists: no pattern character, no empty component, no '/' at
 * the end. */
bool glob_is_plain(const char *s);

/* True when expanding s reads one directory at most: a plain name, or a
 * pattern whose pattern characters are all in its last component (no
 * '**', no pattern in a directory's name). */
bool glob_is_shallow(const char *s);

/* Appends the paths matching pattern, sorted, to out. '*', '?' and '[...]'
 * match within one path component and never a leading '.'; a component
 * that is exactly '**' matches zero or more directories. Returns 0, or
 * -errno when a directory could not be read (what matched so far stays). */
int glob_expand(const char *pattern, struct strlist *out);

/* As glob_expand, matching below directory dir (NULL or "": the current
 * one); the paths handed out are relative to dir, as the pattern is. */
int glob_expand_in(const char *dir, const char *pattern, struct strlist *out);

#endif
