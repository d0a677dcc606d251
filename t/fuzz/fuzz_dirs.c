/* libFuzzer target for .weft/dirs: any bytes as the body of a file whose header and checksum match, read by dirlist_load(), and what was read saved and read back.
 *
 * A checksum guards the file against damage, so only a body made to fit
 * it reaches the parser. The listings in it name directories that do not
 * exist (or whose stat data differs), so dirlist_get() lists them anew;
 * this target looks at the file alone.
 *
 * Properties checked besides "no crash, no leak, no UB":
 *   - what a save writes after that load, it reads back: the listings it
 *     kept, and none that had expired, so a save after that writes
 *     nothing. */
#include <fcntl.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <xxhash.h>

#include "dirlist.h"
#include "util.h"

#include "fuzz.h"

static char dir[] = "/tmp/weft-fuzz-dirs-XXXXXX";
static char file[64], again[64];

static void cleanup(void)
{
	unlink(file);
	unlink(again);
	rmdir(dir);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	FUZZ_CHECK(mkdtemp(dir) != NULL);
	snprintf(file, sizeof file, "%s/dirs", dir);
	snprintf(again, sizeof again, "%s/again", dir);
	fuzz_on_exit(cleanup);
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* The header: magic, the body's length and its XXH3-128. */
	uint64_t len = size;
	XXH128_canonical_t cs;
	XXH128_canonicalFromHash(&cs, XXH3_128bits(data, size));
	int fd = open(file, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	FUZZ_CHECK(fd >= 0);
	FUZZ_CHECK(write_full(fd, "weft-dirs\t1\n", 12) == 0);
	FUZZ_CHECK(write_full(fd, &len, sizeof len) == 0);
	FUZZ_CHECK(write_full(fd, &cs, sizeof cs) == 0);
	FUZZ_CHECK(write_full(fd, data, size) == 0);
	FUZZ_CHECK(close(fd) == 0);

	int n1 = dirlist_load(file);
	FUZZ_CHECK(n1 >= -1);
	/* Written only when the load found expired listings to drop. */
	unlink(again);
	FUZZ_CHECK(dirlist_save(again) == 0);
	dirlist_release();
	if (access(again, F_OK) == 0) {
		FUZZ_CHECK(n1 > 0);
		int n2 = dirlist_load(again);
		FUZZ_CHECK(n2 >= 0 && n2 < n1);
		unlink(again);
		FUZZ_CHECK(dirlist_save(again) == 0);
		FUZZ_CHECK(access(again, F_OK) != 0);
		dirlist_release();
	}
	return 0;
}
