/* libFuzzer target for the events' wire form: any bytes, line by line, through the decoder.
 *
 * Properties checked besides "no crash, no leak, no UB":
 *   - a line the decoder takes encodes again to a line it also takes, and
 *     that line decodes and encodes to the very same bytes: what a runner
 *     or a file says survives a trip through weft unchanged;
 *   - a decoded job event always names its job (id > 0), and a run event
 *     its run. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "wire.h"

#include "fuzz.h"

static void one(const char *line, size_t len)
{
	struct wire_event a, b;
	if (wire_decode(line, len, &a) < 0)
		return;
	bool run_event = a.ev.type == EV_RUN_START || a.ev.type == EV_RUN_END;
	FUZZ_CHECK(run_event ? a.ev.run != NULL && a.ev.job == NULL : a.ev.run == NULL);
	if (a.ev.type != EV_MESSAGE && !run_event)
		FUZZ_CHECK(a.ev.job && a.ev.job->id > 0);
	struct buf once, twice;
	buf_init(&once);
	buf_init(&twice);
	wire_encode(&a.ev, a.t_us, &once);
	FUZZ_CHECK(once.len > 1 && once.p[once.len - 1] == '\n');
	FUZZ_CHECK(memchr(once.p, '\n', once.len - 1) == NULL);
	FUZZ_CHECK(wire_decode(once.p, once.len - 1, &b) == 0);
	wire_encode(&b.ev, b.t_us, &twice);
	FUZZ_CHECK(once.len == twice.len && memcmp(once.p, twice.p, once.len) == 0);
	FUZZ_CHECK(a.ev.type == b.ev.type && a.t_us == b.t_us);
	buf_release(&once);
	buf_release(&twice);
	wire_event_release(&a);
	wire_event_release(&b);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *p = (const char *)data, *end = p + size;
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t len = nl ? (size_t)(nl - p) : (size_t)(end - p);
		one(p, len);
		p += len + 1;
	}
	return 0;
}
