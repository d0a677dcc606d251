/* Directory listings for patterns, read once and kept across runs in .weft/dirs while each directory's stat data says it has not changed. */
#ifndef WEFT_DIRLIST_H
#define WEFT_DIRLIST_H

#include <stddef.h>

struct dirlist_entry {
	const char *name;
	unsigned char type; /* d_type: DT_DIR, DT_REG, DT_LNK... DT_UNKNOWN */
};

/* A directory's entries but "." and "..", sorted by name (strcmp). */
struct dirlist {
	size_t n;
	const struct dirlist_entry *v;
};

/* The entries of the directory at path (as opendir() takes it). A
 * listing kept from before is handed out while the directory's device,
 * inode, mtime and ctime are what they were when it was read, and only
 * when it was read past the racy window (2 s) after its last change: a
 * change within the same clock tick would leave its times as they were.
 * Returns 0, or -errno (the directory could not be opened or read). A
 * listing stays valid until dirlist_release(). Any thread. */
int dirlist_get(const char *path, struct dirlist *out);

/* Reads the listings kept in file (.weft/dirs). A missing, unreadable or
 * damaged file is as an empty one: it is a cache, rewritten at the next
 * save. Call it before the first dirlist_get(). Returns how many listings
 * it took, or -1 when the file was there but not read (damaged). */
int dirlist_load(const char *file);

/* Writes the listings that can be kept to file, by a rename, when they
 * differ from what dirlist_load() read. Returns 0 or -errno. */
int dirlist_save(const char *file);

/* Forgets every listing. */
void dirlist_release(void);

#endif
