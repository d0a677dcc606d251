/* A string-keyed hash table of borrowed pointers (open addressing). */
#ifndef WEFT_HASH_H
#define WEFT_HASH_H

#include <stddef.h>

struct hash;

struct hash *hash_new(void);
void hash_free(struct hash *h);
/* Keys are borrowed: they must outlive the table. Replaces an existing key. */
void hash_put(struct hash *h, const char *key, void *value);
void *hash_get(const struct hash *h, const char *key);

#endif
