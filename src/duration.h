/* Durations as users write them (500ms, 90s, 5m, 1h, 1m30s) to and from milliseconds. */
#ifndef WEFT_DURATION_H
#define WEFT_DURATION_H

#include <stddef.h>
#include <stdint.h>

/* Parses s into *ms. A bare number is seconds. Returns 0, or -EINVAL
 * (and leaves *ms alone) for anything else, including an empty string. */
int duration_parse(const char *s, uint64_t *ms);

/* Writes a short human form of ms ("5s", "1.5s", "2m30s") into out. */
void duration_format(uint64_t ms, char *out, size_t size);

/* Writes seconds as a clock: "M:SS", or "H:MM:SS" from an hour on. */
void duration_clock(uint64_t seconds, char *out, size_t size);

#endif
