/* File name patterns with '**' (any depth of directories), expanded in sorted order. */
#include "glob.h"

#include <dirent.h>
#include <errno.h>
#include <fnmatch.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cancel.h"
#include "dirlist.h"
#include "util.h"

void strlist_add(struct strlist *l, const char *s)
{
	grow(&l->v, &l->cap, l->n + 1, sizeof *l->v);
	l->v[l->n++] = xstrdup(s);
}

void strlist_release(struct strlist *l)
{
	for (size_t i = 0; i < l->n; i++)
		free(l->v[i]);
	free(l->v);
	l->v = NULL;
	l->n = l->cap = 0;
}

bool glob_is_pattern(const char *s)
{
	return strpbrk(s, "*?[") != NULL;
}

bool glob_is_plain(const char *s)
{
	size_t n = strlen(s);
	return n && !glob_is_pattern(s) && !strstr(s, "//") && s[n - 1] != '/';
}

bool glob_is_shallow(const char *s)
{
	if (strstr(s, "**"))
		return false;
	const char *last = strrchr(s, '/');
	for (const char *p = s; last && p < last; p++)
		if (*p == '*' || *p == '?' || *p == '[')
			return false;
	return true;
}

/* Patterns are matched below `base` (NULL: the current directory); the
 * paths handed out stay relative to it. */
static _Thread_local const char *base; /* per thread: workers glob too */

static char *on_disk(const char *path)
{
	if (!base || path[0] == '/')
		return xstrdup(*path ? path : ".");
	return *path ? xasprintf("%s/%s", base, path) : xstrdup(base);
}

static bool is_dir(const char *path)
{
	struct stat st;
	char *p = on_disk(path);
	bool r = stat(p, &st) == 0 && S_ISDIR(st.st_mode);
	free(p);
	return r;
}

/* The entries of the directory at path, from dirlist.c. */
static int list_dir(const char *path, struct dirlist *l)
{
	char *p = on_disk(path);
	int r = dirlist_get(p, l);
	free(p);
	return r;
}

static int lstat_at(const char *path, struct stat *st)
{
	char *p = on_disk(path);
	int r = lstat(p, st);
	free(p);
	return r;
}

static char *join(const char *dir, const char *name)
{
	if (!*dir)
		return xstrdup(name);
	/* Not xasprintf: a directory of 500 files is 500 joins. */
	size_t dl = strcmp(dir, "/") == 0 ? 0 : strlen(dir), nl = strlen(name);
	char *p = xmalloc(dl + 1 + nl + 1);
	memcpy(p, dir, dl);
	p[dl] = '/';
	memcpy(p + dl + 1, name, nl + 1);
	return p;
}

/* dir/NAME for the entry e of dir when it is a directory, or a symbolic
 * link that stat() finds one at the end of; NULL otherwise. d_type spares
 * a stat() for every other entry of a '**' walk; symbolic links, and file
 * systems that leave d_type DT_UNKNOWN, are stat()ed as before. */
static char *subdir(const char *dir, const struct dirlist_entry *e)
{
	if (e->type == DT_DIR)
		return join(dir, e->name);
	if (e->type != DT_LNK && e->type != DT_UNKNOWN)
		return NULL;
	char *p = join(dir, e->name);
	if (is_dir(p))
		return p;
	free(p);
	return NULL;
}

/* dir/NAME for the entry e of dir when it is a directory itself, not a
 * symbolic link to one: what '**' goes down into. As bash's globstar and
 * git do, '**' does not follow links, so a link to a parent cannot make
 * the walk endless. */
static char *real_subdir(const char *dir, const struct dirlist_entry *e)
{
	if (e->type == DT_DIR)
		return join(dir, e->name);
	if (e->type != DT_UNKNOWN)
		return NULL;
	char *p = join(dir, e->name);
	struct stat st;
	if (lstat_at(p, &st) == 0 && S_ISDIR(st.st_mode))
		return p;
	free(p);
	return NULL;
}

/* Matches segs[0..n) below dir ("" is the current directory). */
static int walk(const char *dir, char **segs, size_t n, struct strlist *out)
{
	if (n == 0) {
		if (*dir)
			strlist_add(out, dir);
		return 0;
	}
	const char *seg = segs[0];
	int err = 0;
	if (strcmp(seg, "**") == 0) {
		/* Zero directories here, or one more and '**' again. */
		err = walk(dir, segs + 1, n - 1, out);
		struct dirlist l;
		int r = list_dir(dir, &l);
		if (r < 0)
			return r == -ENOENT || r == -ENOTDIR ? err : r;
		for (size_t i = 0; i < l.n; i++) {
			const struct dirlist_entry *e = &l.v[i];
			if (cancel_raised()) {
				err = -ECANCELED;
				break;
			}
			if (e->name[0] == '.')
				continue;
			char *p = real_subdir(dir, e);
			if (!p)
				continue;
			r = walk(p, segs, n, out);
			if (r < 0 && !err)
				err = r;
			free(p);
		}
		return err;
	}
	if (!glob_is_pattern(seg)) {
		char *p = join(dir, seg);
		struct stat st;
		if ((n == 1 && lstat_at(p, &st) == 0) || (n > 1 && is_dir(p)))
			err = walk(p, segs + 1, n - 1, out);
		free(p);
		return err;
	}
	struct dirlist l;
	int r = list_dir(dir, &l);
	if (r < 0)
		return r == -ENOENT || r == -ENOTDIR ? 0 : r;
	/* The commonest pattern, '*' and a plain suffix ("*.c"), is matched
	 * without fnmatch(), a few times cheaper for a directory of files. */
	const char *suffix = seg[0] == '*' && !strpbrk(seg + 1, "*?[\\") ? seg + 1 : NULL;
	size_t suffix_len = suffix ? strlen(suffix) : 0;
	for (size_t i = 0; i < l.n; i++) {
		const struct dirlist_entry *e = &l.v[i];
		if (cancel_raised()) {
			err = -ECANCELED;
			break;
		}
		if (suffix) {
			/* As FNM_PERIOD: '*' matches no leading '.'. */
			size_t len = strlen(e->name);
			if (e->name[0] == '.' || len < suffix_len ||
			    memcmp(e->name + len - suffix_len, suffix, suffix_len) != 0)
				continue;
		} else if (fnmatch(seg, e->name, FNM_PERIOD) != 0) {
			continue;
		}
		if (n == 1) {
			/* The last component: the path is a match, handed over. */
			grow(&out->v, &out->cap, out->n + 1, sizeof *out->v);
			out->v[out->n++] = join(dir, e->name);
			continue;
		}
		char *p = subdir(dir, e);
		if (!p)
			continue;
		r = walk(p, segs + 1, n - 1, out);
		if (r < 0 && !err)
			err = r;
		free(p);
	}
	return err;
}

static int by_name(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int done(char **segs, char *copy, int err)
{
	free(segs);
	free(copy);
	base = NULL;
	return err;
}

int glob_expand(const char *pattern, struct strlist *out)
{
	return glob_expand_in(NULL, pattern, out);
}

int glob_expand_in(const char *dir, const char *pattern, struct strlist *out)
{
	base = dir && *dir ? dir : NULL;
	char *copy = xstrdup(pattern);
	size_t nseg = 0;
	char **segs = xcalloc(strlen(pattern) + 1, sizeof *segs);
	const char *root = "";
	char *s = copy;
	if (*s == '/') {
		root = "/";
		s++;
	}
	char *save;
	for (char *tok = strtok_r(s, "/", &save); tok; tok = strtok_r(NULL, "/", &save))
		segs[nseg++] = tok;
	size_t before = out->n;
	int err = 0;
	if (nseg && !glob_is_pattern(pattern)) {
		/* A plain name: one lstat() of the whole path finds what the
		 * walk would, a directory at a time, find (path resolution
		 * follows the same links and fails on the same non-directories). */
		struct buf path;
		buf_init(&path);
		buf_adds(&path, root);
		for (size_t i = 0; i < nseg; i++)
			buf_addf(&path, "%s%s", i ? "/" : "", segs[i]);
		struct stat st;
		if (lstat_at(path.p, &st) == 0)
			strlist_add(out, path.p);
		buf_release(&path);
	} else {
		err = walk(root, segs, nseg, out);
	}
	/* A '**' pattern can reach one path twice: keep one. Listings come
	 * sorted, so a pattern of one directory needs one pass, not qsort().
	 * Not qsort() on fewer than two: out->v is NULL when nothing was ever
	 * added (UB). */
	size_t k = before + 1;
	while (k < out->n && strcmp(out->v[k - 1], out->v[k]) < 0)
		k++;
	if (k >= out->n)
		return done(segs, copy, err);
	qsort(out->v + before, out->n - before, sizeof *out->v, by_name);
	size_t w = before;
	for (size_t i = before; i < out->n; i++) {
		if (w > before && strcmp(out->v[w - 1], out->v[i]) == 0) {
			free(out->v[i]);
			continue;
		}
		out->v[w++] = out->v[i];
	}
	out->n = w;
	return done(segs, copy, err);
}
