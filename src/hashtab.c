/* A string-keyed hash table of borrowed pointers (open addressing). */
#include "hashtab.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <xxhash.h>

#include "util.h"

struct slot {
	const char *key; /* NULL: empty */
	void *value;
	uint64_t hash;   /* of key: growing needs no hashing, and a probe
	                  * compares strings only where the hashes match */
};

struct hashtab {
	struct slot *slots;
	size_t cap; /* a power of two */
	size_t n;
};

uint64_t hashtab_hash(const char *s)
{
	/* XXH3 takes a key eight bytes or more at a time, where FNV-1a's
	 * multiply per byte made the lookups of a no-op run wait on it. */
	return XXH3_64bits(s, strlen(s));
}

struct hashtab *hashtab_new(void)
{
	struct hashtab *h = xcalloc(1, sizeof *h);
	h->cap = 64;
	h->slots = xcalloc(h->cap, sizeof *h->slots);
	return h;
}

void hashtab_free(struct hashtab *h)
{
	if (!h)
		return;
	free(h->slots);
	free(h);
}

static struct slot *find(const struct hashtab *h, const char *key, uint64_t hash)
{
	size_t i = hash & (h->cap - 1);
	while (h->slots[i].key && (h->slots[i].hash != hash || strcmp(h->slots[i].key, key) != 0))
		i = (i + 1) & (h->cap - 1);
	return &h->slots[i];
}

void hashtab_put(struct hashtab *h, const char *key, void *value)
{
	if ((h->n + 1) * 2 > h->cap) {
		struct slot *old = h->slots;
		size_t oldcap = h->cap;
		h->cap *= 2;
		h->slots = xcalloc(h->cap, sizeof *h->slots);
		/* Keys are unique: each goes to the first empty slot of its run. */
		for (size_t i = 0; i < oldcap; i++)
			if (old[i].key) {
				size_t k = old[i].hash & (h->cap - 1);
				while (h->slots[k].key)
					k = (k + 1) & (h->cap - 1);
				h->slots[k] = old[i];
			}
		free(old);
	}
	uint64_t hash = hashtab_hash(key);
	struct slot *s = find(h, key, hash);
	if (!s->key)
		h->n++;
	s->key = key;
	s->value = value;
	s->hash = hash;
}

void *hashtab_get(const struct hashtab *h, const char *key)
{
	return find(h, key, hashtab_hash(key))->value;
}
