/* libFuzzer target for .weft/state: any bytes as the body of a state whose header and checksum match, read in the binary format or the text one, and what was read saved and read back.
 *
 * The first byte picks the format the header names (even: 4, binary;
 * odd: 3, text); the rest is the body. A checksum guards a state against
 * damage, so only a body made to fit it reaches the parsers.
 *
 * Properties checked besides "no crash, no leak, no UB":
 *   - a body that is read is read whole, or not at all: either no warning
 *     and records, or a warning and none;
 *   - what was read, saved (in the binary format) and read again is the
 *     same, as cachefile_text() prints it. */
#include <fcntl.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <xxhash.h>

#include "cachefile.h"
#include "util.h"

#include "fuzz.h"

static char dir[] = "/tmp/weft-fuzz-state-XXXXXX";
static char wdir[64], state[80], journal[80];

static void cleanup(void)
{
	unlink(state);
	unlink(journal);
	rmdir(wdir);
	rmdir(dir);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	FUZZ_CHECK(mkdtemp(dir) != NULL);
	snprintf(wdir, sizeof wdir, "%s/.weft", dir);
	snprintf(state, sizeof state, "%s/state", wdir);
	snprintf(journal, sizeof journal, "%s/journal", wdir);
	FUZZ_CHECK(mkdir(wdir, 0700) == 0);
	fuzz_on_exit(cleanup);
	return 0;
}

static void write_state(int version, const uint8_t *body, size_t len)
{
	XXH128_canonical_t cs;
	XXH128_canonicalFromHash(&cs, XXH3_128bits(body, len));
	char sum[HEX_LEN + 1];
	cachefile_hex16(cs.digest, sum);
	char head[128];
	int n = snprintf(head, sizeof head, "weft-state\t%d\t0123456789abcdef\t%zu\t%s\n", version, len, sum);
	int fd = open(state, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	FUZZ_CHECK(fd >= 0);
	FUZZ_CHECK(write_full(fd, head, (size_t)n) == 0);
	FUZZ_CHECK(write_full(fd, body, len) == 0);
	FUZZ_CHECK(close(fd) == 0);
}

/* The text of c without its header line, which names the state's id. */
static char *body_text(const struct cache *c)
{
	char *t = cachefile_text(c);
	char *nl = strchr(t, '\n');
	FUZZ_CHECK(nl != NULL);
	char *b = xstrdup(nl + 1);
	free(t);
	return b;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	write_state(data[0] & 1 ? 3 : 4, data + 1, size - 1);
	unlink(journal);
	char *warning = NULL;
	struct cache *c = cachefile_load(dir, &warning);
	if (warning) {
		FUZZ_CHECK(c->nrecs == 0);
		free(warning);
		cachefile_free(c);
		return 0;
	}
	char *before = body_text(c);
	c->dirty = true;
	FUZZ_CHECK(cachefile_save(c) == 0);
	cachefile_free(c);
	c = cachefile_load(dir, &warning);
	FUZZ_CHECK(warning == NULL);
	char *after = body_text(c);
	FUZZ_CHECK(strcmp(before, after) == 0);
	free(before);
	free(after);
	cachefile_free(c);
	return 0;
}
