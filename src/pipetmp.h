/* --cat and --fifo: a job's block or part of a file as a temporary file or FIFO, its name standing for {}. */
#ifndef WEFT_PIPETMP_H
#define WEFT_PIPETMP_H

#include <stdbool.h>
#include <sys/types.h>

struct block;
struct pipetmp;

/* A run's temporary files, in a private directory made in $TMPDIR (or
 * /tmp) at the first of them. fifo: FIFOs rather than files. */
struct pipetmp *pipetmp_new(bool fifo);

/* Makes a temporary name for a job: --cat, a file holding b (or len
 * bytes of file fd from off); --fifo, an empty FIFO. Returns 0 and *path
 * (a new string), or -errno. */
int pipetmp_make(struct pipetmp *pt, const struct block *b, int fd, off_t off, off_t len, char **path);

/* --fifo: cmd wrapped so that its stdin (the block) is copied into the
 * FIFO at path while cmd runs, cmd's exit status being the job's; the
 * copy ends with cmd, so a cmd that never opens the FIFO leaves nothing
 * waiting. A new string. */
char *pipetmp_fifo_command(const char *cmd, const char *path);

/* Removes the directory (its files are each removed with their job). */
void pipetmp_free(struct pipetmp *pt);

#endif
