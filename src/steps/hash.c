/* The hash step: checksums of files, printed the way sha256sum prints them. */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <nettle/sha2.h>
#include <xxhash.h>

#include "../step.h"
#include "../util.h"

/*
 * step = hash [--algo=sha256|xxh128] [--output=FILE] [--] PATH...
 *
 *   --algo=sha256   SHA-256 through nettle (the default)
 *   --algo=xxh128   XXH3 128-bit through libxxhash (what `xxhsum -H2` prints)
 *   --output=FILE   write the lines to FILE instead of stdout; FILE is
 *                   replaced atomically, and only when every PATH was read
 *   --              ends the options (for a PATH that starts with '-')
 *
 * Prints one line per PATH, in order: the lowercase hex digest, two spaces
 * and the PATH as given ("HEX  PATH\n"), so `sha256sum -c` and `xxhsum -c`
 * accept it. Like coreutils, a PATH with a backslash, newline or carriage
 * return is written escaped (\\, \n, \r) and the line starts with '\'.
 * An unreadable PATH (missing, a directory, no permission) is reported as
 * "weft: hash: cannot read 'PATH': REASON"; the others are still hashed
 * and printed, and the status is 2. There is no standard input: '-' is
 * not a PATH (write ./- for a file of that name).
 */

enum algo { ALGO_SHA256, ALGO_XXH128 };

struct args {
	enum algo algo;
	const char *output; /* NULL: stdout */
	int first;          /* argv index of the first PATH */
};

#define READ_SIZE (1024 * 1024)

static int parse(int argc, char *const *argv, struct args *a, char **err)
{
	a->algo = ALGO_SHA256;
	a->output = NULL;
	int i = 1;
	for (; i < argc; i++) {
		const char *s = argv[i];
		if (strcmp(s, "--") == 0) {
			i++;
			break;
		}
		if (strncmp(s, "--algo=", 7) == 0) {
			if (strcmp(s + 7, "sha256") == 0) {
				a->algo = ALGO_SHA256;
			} else if (strcmp(s + 7, "xxh128") == 0) {
				a->algo = ALGO_XXH128;
			} else {
				*err = xasprintf("unknown algorithm '%s' (sha256 or xxh128)", s + 7);
				return -1;
			}
		} else if (strncmp(s, "--output=", 9) == 0) {
			if (!s[9]) {
				*err = xstrdup("option '--output=' needs a file name");
				return -1;
			}
			a->output = s + 9;
		} else if (s[0] == '-') {
			*err = xasprintf("unknown option '%s'", s);
			return -1;
		} else {
			break;
		}
	}
	if (i >= argc) {
		*err = xstrdup("no files to hash");
		return -1;
	}
	a->first = i;
	return 0;
}

static int check(int argc, char *const *argv, char **err)
{
	struct args a;
	return parse(argc, argv, &a, err);
}

static void add_hex(struct buf *b, const unsigned char *d, size_t n)
{
	static const char hex[] = "0123456789abcdef";
	for (size_t i = 0; i < n; i++) {
		char two[2] = { hex[d[i] >> 4], hex[d[i] & 15] };
		buf_add(b, two, 2);
	}
}

/* "HEX  PATH\n", escaped as coreutils 9 does. */
static void format_line(struct buf *b, const unsigned char *d, size_t n, const char *path)
{
	bool esc = strpbrk(path, "\\\n\r") != NULL;
	buf_reset(b);
	if (esc)
		buf_add(b, "\\", 1);
	add_hex(b, d, n);
	buf_add(b, "  ", 2);
	for (const char *s = path; *s; s++) {
		if (esc && *s == '\\')
			buf_add(b, "\\\\", 2);
		else if (esc && *s == '\n')
			buf_add(b, "\\n", 2);
		else if (esc && *s == '\r')
			buf_add(b, "\\r", 2);
		else
			buf_add(b, s, 1);
	}
	buf_add(b, "\n", 1);
}

struct hasher {
	enum algo algo;
	struct sha256_ctx sha;
	XXH3_state_t *xs;
};

/* Returns 0, or -1 when the library failed. */
static int hasher_reset(struct hasher *h)
{
	if (h->algo == ALGO_SHA256) {
		sha256_init(&h->sha);
		return 0;
	}
	return XXH3_128bits_reset(h->xs) == XXH_OK ? 0 : -1;
}

static int hasher_update(struct hasher *h, const void *p, size_t n)
{
	if (h->algo == ALGO_SHA256) {
		sha256_update(&h->sha, n, p);
		return 0;
	}
	return XXH3_128bits_update(h->xs, p, n) == XXH_OK ? 0 : -1;
}

/* Writes the digest to d (32 bytes at most) and sets *n; returns 0 or -1. */
static int hasher_final(struct hasher *h, unsigned char *d, size_t *n)
{
	if (h->algo == ALGO_SHA256) {
		sha256_digest(&h->sha, SHA256_DIGEST_SIZE, d);
		*n = SHA256_DIGEST_SIZE;
		return 0;
	}
	XXH128_canonical_t c;
	XXH128_canonicalFromHash(&c, XXH3_128bits_digest(h->xs));
	memcpy(d, c.digest, sizeof c.digest);
	*n = sizeof c.digest;
	return 0;
}

enum file_result { FILE_OK, FILE_FAILED, FILE_STOP };

static enum file_result hash_file(struct hasher *h, const char *path, char *rbuf,
				  unsigned char *digest, size_t *dlen, struct step_out *out)
{
	char *full = step_path(out, path);
	int fd = open_read(full);
	free(full);
	if (fd < 0) {
		step_error_errno(out, -fd, "cannot read '%s'", path);
		return FILE_FAILED;
	}
	posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
	if (hasher_reset(h) < 0) {
		close(fd);
		step_error(out, "cannot hash '%s': the hash library failed", path);
		return FILE_FAILED;
	}
	for (;;) {
		if (step_poll(out)) {
			close(fd);
			return FILE_STOP;
		}
		/* Bounded waits: a FIFO's writer may never come, and a timeout
		 * or a signal must still be seen (step_poll above). */
		ssize_t n = read_wait(fd, rbuf, READ_SIZE, STEP_WAIT_MS);
		if (n == -EAGAIN)
			continue;
		if (n < 0) {
			close(fd);
			step_error_errno(out, (int)-n, "cannot read '%s'", path);
			return FILE_FAILED;
		}
		if (n == 0)
			break;
		if (hasher_update(h, rbuf, (size_t)n) < 0) {
			close(fd);
			step_error(out, "cannot hash '%s': the hash library failed", path);
			return FILE_FAILED;
		}
	}
	close(fd);
	if (hasher_final(h, digest, dlen) < 0) {
		step_error(out, "cannot hash '%s': the hash library failed", path);
		return FILE_FAILED;
	}
	return FILE_OK;
}

static int run(int argc, char *const *argv, struct step_out *out)
{
	struct args a;
	char *err = NULL;
	if (parse(argc, argv, &a, &err) < 0) {
		step_error(out, "%s", err);
		free(err);
		return STEP_ERROR;
	}
	struct hasher h = { .algo = a.algo };
	int status = STEP_OK;
	char *rbuf = NULL;
	struct buf line;
	buf_init(&line);

	if (a.algo == ALGO_XXH128) {
		h.xs = XXH3_createState();
		if (!h.xs)
			abort(); /* only malloc can fail */
	}
	if (a.output && step_redirect(out, a.output) < 0) {
		status = STEP_ERROR;
		goto done;
	}
	rbuf = xmalloc(READ_SIZE);
	for (int i = a.first; i < argc; i++) {
		unsigned char digest[SHA256_DIGEST_SIZE];
		size_t dlen = 0;
		enum file_result r = hash_file(&h, argv[i], rbuf, digest, &dlen, out);
		if (r == FILE_STOP) {
			status = STEP_ERROR;
			break;
		}
		if (r == FILE_FAILED) {
			status = STEP_ERROR;
			continue;
		}
		format_line(&line, digest, dlen, argv[i]);
		if (step_write(out, 1, line.p, line.len) < 0) {
			status = STEP_ERROR;
			break;
		}
	}
done:
	free(rbuf);
	buf_release(&line);
	if (h.xs)
		XXH3_freeState(h.xs);
	return status;
}

/* sha256sum or xxhsum -H2 print the same lines; with --output, their
 * output goes to the file (written as it comes, not replaced whole). */
static void shell(int argc, char *const *argv, struct buf *b)
{
	struct args a;
	char *err = NULL;
	if (parse(argc, argv, &a, &err) < 0) {
		free(err);
		return;
	}
	buf_adds(b, a.algo == ALGO_XXH128 ? "xxhsum -H2 --" : "sha256sum --");
	step_shell_args(b, argc - a.first, argv + a.first, a.output);
}

const struct step_def step_hash = {
	.name = "hash",
	.usage = "hash [--algo=sha256|xxh128] [--output=FILE] [--] PATH...",
	.check = check,
	.run = run,
	.shell = shell,
};
