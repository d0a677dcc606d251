/* What the libFuzzer targets share: an in-memory file to hand a parser by path, and a check that aborts. */
#ifndef WEFT_FUZZ_H
#define WEFT_FUZZ_H

#include <errno.h>
#include <sanitizer/common_interface_defs.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

/* Called before a failed check or a sanitizer report ends the process,
 * which skips atexit(): a target that leaves files behind removes them. */
static void (*fuzz_cleanup)(void);

static inline void fuzz_on_exit(void (*fn)(void))
{
	fuzz_cleanup = fn;
	atexit(fn);
	__sanitizer_set_death_callback(fn);
}

/* A failed property is a crash, so libFuzzer saves the input that broke it. */
#define FUZZ_CHECK(cond)                                                                        \
	do {                                                                                    \
		if (!(cond)) {                                                                  \
			fprintf(stderr, "%s:%d: property failed: %s\n", __FILE__, __LINE__, #cond); \
			if (fuzz_cleanup)                                                       \
				fuzz_cleanup();                                                 \
			abort();                                                                \
		}                                                                               \
	} while (0)

/* A file that lives in memory: fd is a memfd, path is /proc/self/fd/N, which
 * open() (without O_NOFOLLOW) and fopen() take like any other path. */
struct fuzz_file {
	int fd;
	char path[32];
};

static inline void fuzz_file_open(struct fuzz_file *f, const char *name)
{
	f->fd = memfd_create(name, MFD_CLOEXEC);
	FUZZ_CHECK(f->fd >= 0);
	snprintf(f->path, sizeof f->path, "/proc/self/fd/%d", f->fd);
}

/* Makes the file hold exactly data[0..size). */
static inline void fuzz_file_set(struct fuzz_file *f, const uint8_t *data, size_t size)
{
	FUZZ_CHECK(ftruncate(f->fd, 0) == 0);
	size_t done = 0;
	while (done < size) {
		ssize_t w = pwrite(f->fd, data + done, size - done, (off_t)done);
		if (w < 0 && errno == EINTR)
			continue;
		FUZZ_CHECK(w > 0);
		done += (size_t)w;
	}
}

#endif
