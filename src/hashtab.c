/* A string-keyed hash table of borrowed pointers (open addressing). */
#include "hashtab.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

struct slot {
	const char *key; /* NULL: empty */
	void *value;
};

struct hashtab {
	struct slot *slots;
	size_t cap; /* a power of two */
	size_t n;
};

static uint64_t fnv1a(const char *s)
{
	uint64_t h = 1469598103934665603u;
	while (*s) {
		h ^= (unsigned char)*s++;
		h *= 1099511628211u;
	}
	return h;
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

static struct slot *find(const struct hashtab *h, const char *key)
{
	size_t i = fnv1a(key) & (h->cap - 1);
	while (h->slots[i].key && strcmp(h->slots[i].key, key) != 0)
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
		for (size_t i = 0; i < oldcap; i++)
			if (old[i].key)
				*find(h, old[i].key) = old[i];
		free(old);
	}
	struct slot *s = find(h, key);
	if (!s->key)
		h->n++;
	s->key = key;
	s->value = value;
}

void *hashtab_get(const struct hashtab *h, const char *key)
{
	return find(h, key)->value;
}
