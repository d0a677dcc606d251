/* A string-keyed hash table of borrowed pointers (open addressing). */
#ifndef WEFT_HASHTAB_H
#define WEFT_HASHTAB_H

#include <stddef.h>
#include <stdint.h>

struct hashtab;

/* The hash of a string key, which the table uses; for other tables of
 * strings too. */
uint64_t hashtab_hash(const char *s);

struct hashtab *hashtab_new(void);
void hashtab_free(struct hashtab *h);
/* Keys are borrowed: they must outlive the table. Replaces an existing key. */
void hashtab_put(struct hashtab *h, const char *key, void *value);
void *hashtab_get(const struct hashtab *h, const char *key);

#endif
