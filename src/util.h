/* Small helpers used everywhere: allocation that never fails, a growable byte buffer, string utilities. */
#ifndef WEFT_UTIL_H
#define WEFT_UTIL_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <stdint.h>
#include <time.h>

/* Allocation: out of memory aborts the process, so callers never check. */
void *xmalloc(size_t n);
void *xcalloc(size_t n, size_t size);
void *xrealloc(void *p, size_t n);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);
char *xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* For what a process that is about to end would free: whether p is kept
 * instead, reachable until the end, for the kernel to take back at once
 * (freeing a no-op run's records one by one cost more than a tenth of
 * it). A build with AddressSanitizer, or with -DWEFT_FREE_AT_EXIT, keeps
 * nothing, so that freeing stays checked. */
bool exit_keep(void *p);

/* Grow an array *p of *cap elements of size `size` to hold at least `need`. */
void grow(void *pp, size_t *cap, size_t need, size_t size);

/* A growable byte buffer, always NUL-terminated; embed with buf_init/buf_release. */
struct buf {
	char *p;    /* NULL until the first append */
	size_t len;
	size_t cap;
};
void buf_init(struct buf *b);
void buf_release(struct buf *b);
void buf_add(struct buf *b, const void *data, size_t n);
void buf_adds(struct buf *b, const char *s);
void buf_addf(struct buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Appends v in decimal, as "%llu" writes it (without printf's cost). */
void buf_add_uint(struct buf *b, unsigned long long v);
void buf_reset(struct buf *b);
/* Hands the string to the caller (never NULL) and leaves b empty. */
char *buf_take(struct buf *b);

/* Splits s at blanks (spaces and tabs) into a NULL-terminated array of
 * words; *n (if not NULL) gets their count. Free it with free_words(). */
char **split_blanks(const char *s, size_t *n);
void free_words(char **v);

/* Reads the decimal digits that s starts with (at least one; no sign, no
 * blanks) as a number of at most max. Returns where the digits end, or
 * NULL (and leaves *out alone) when there is none or the number is larger
 * than max. The one parser of unsigned numbers in options and recipes. */
const char *parse_uint(const char *s, unsigned long long max, unsigned long long *out);

/* A count from 1 to 100000 ("jobs" and -j): returns 0 and *out, or -1. */
int parse_count(const char *s, unsigned *out);

/* The "did you mean" hint for an unknown word: the candidate (of a
 * NULL-terminated list) closest to word, the first of equals, when it is
 * at most one edit in three letters of word away (rounded up: 1 for up to
 * 3 letters, 2 for up to 6, ...); NULL when none is that close. Returns
 * one of candidates. */
const char *suggest_word(const char *word, const char *const *candidates);

/* Writes all n bytes to fd (a blocking fd), again after EINTR. Returns 0
 * or -errno. */
int write_full(int fd, const void *p, size_t n);

/* A file written whole or not at all: a new file next to path, renamed
 * over it once it is complete. */
struct outfile {
	char *path, *tmp; /* NULL: not open */
	int fd;           /* -1: closed */
};
/* Creates the new file, so that a path that cannot be written is known
 * before any work. Returns 0, or -errno (f then holds nothing). */
int outfile_open(struct outfile *f, const char *path);
/* Writes n bytes and renames the file over path; releases f. Returns 0
 * or -errno (path is then as it was). */
int outfile_commit(struct outfile *f, const void *p, size_t n);
/* Removes the new file if it was not committed. */
void outfile_release(struct outfile *f);

/* Length of the valid UTF-8 sequence at p (at most n bytes; never an
 * overlong form or a surrogate), or 0. */
size_t utf8_len(const unsigned char *p, size_t n);

/* All of the regular file open at fd, whose stat data goes to *st, with
 * nine zero bytes after its *len bytes (for parsers that read a word at a
 * time). NULL, with errno set, when it cannot be read, is not a regular
 * file (EINVAL) or holds more than max bytes (EFBIG). */
char *read_regular(int fd, size_t max, size_t *len, struct stat *st);

/* Opens path for reading without ever blocking in open(2): a FIFO with
 * no writer would hold the thread there, out of reach of a timeout or a
 * signal. Returns a non-blocking close-on-exec fd, or -errno. Read it with
 * read_wait(). */
int open_read(const char *path);

/* Reads up to n bytes from fd (from open_read()), waiting at most ms
 * milliseconds for some to come (a FIFO, a terminal). Returns the count,
 * 0 at the end, -EAGAIN when nothing came in time (the caller looks at
 * whether it should stop, then calls again), or -errno. */
ssize_t read_wait(int fd, void *buf, size_t n, int ms);

/* Monotonic clock in nanoseconds. */
uint64_t now_ns(void);
/* t in nanoseconds, held at INT64_MIN or INT64_MAX past what fits (a file
 * time before 1678 or after 2262, which touch -d can set): an overflow
 * would be undefined. Such a time matches no racy-window test, so the file
 * is read again each time. */
int64_t timespec_ns(struct timespec t);

#endif
