/* The fingerprint store: content fingerprints of a task's sources, command, environment and deps, compared with those of its last successful run kept in .weft/state. */
#ifndef WEFT_CACHE_H
#define WEFT_CACHE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * A task with `sources` is skipped when its fingerprint equals the one of
 * its last successful run, every `outputs` pattern matches a path and
 * every file they matched after that run is still there, unchanged. The
 * fingerprint is an XXH3-128 over the sorted source names and their
 * content hashes, the command text, the environment the recipe gives the
 * task and the fingerprints of its deps. File content is hashed only when
 * the file's stat data (size, mtime, ctime, inode, device) differs from
 * what was recorded, as git's index does.
 *
 * Use, for one task (L: loop thread, W: any worker thread):
 *
 *   L  k = cache_check_new(cache, &task)   copies the task, shares the stat data
 *   W  cache_check_run(k)                  globs, stats, hashes; touches only k
 *   L  why = cache_fresh(cache, k, &fresh) the decision and its reason (--explain)
 *      fresh:  cache_record(cache, k)      keeps refreshed stat data; skip the task
 *      stale:  cache_forget(cache, k)      BEFORE the command starts; then run it
 *              success: W cache_check_settle(k, depfile's files)
 *                       L unless cache_check_changed(k): cache_record(cache, k)
 *              failure, kill, timeout: nothing
 *   L  cache_check_free(k)                 after the deps' checks no longer need
 *                                          its fingerprint
 *   L  cache_save(cache)                   at the end of the run, whatever its
 *                                          outcome (and, if wished, now and then)
 *
 * Run a task's check only once its deps have finished (their outputs may
 * be its sources), and give it their fingerprints.
 *
 * Crash safety: the state on disk never claims that a task succeeded when
 * its last run failed or was killed.
 *  - .weft/state is only ever replaced whole: a temporary file in .weft/
 *    is written, fsynced and renamed over it, and the directory fsynced.
 *    A kill at any moment leaves the old or the new state, never a mix;
 *    the first line holds the length and a checksum of the rest, so a
 *    file damaged some other way is detected and ignored (a warning).
 *  - A success record that is on disk is withdrawn before the task runs
 *    again: cache_forget() appends "forget" and the state's id to
 *    .weft/journal and fdatasyncs it. cache_load() applies the journal
 *    lines of the state it loaded. Without this, a task that is killed
 *    after it rewrote half its outputs (or that ran because of -B or a
 *    missing output) would look up to date next time, because its inputs
 *    still match the old record. A save gets a new id, so older journal
 *    lines no longer apply, and removes the journal. The cost: one small
 *    synced append per task that runs while the state calls it done.
 *    Should the journal be unwritable, the whole state is saved instead;
 *    should it be unreadable, no success in the state is trusted.
 *  - Success is recorded in memory only (cache_record) and reaches disk
 *    with the next cache_save(); a run killed before that runs the task
 *    again next time, which is safe.
 *  - The fingerprint is taken before the task runs, and the sources are
 *    stat()ed again after a success (cache_check_sources_changed): a
 *    source edited while the command runs, even edited back, makes the
 *    task run again next time, never a skipped build from old content.
 *    (So a task that rewrites its own sources on every run always runs.)
 *  - A file whose mtime or ctime lies within the racy window (2 s by
 *    default) before the moment its hash was taken may have changed again
 *    within the same timestamp tick: its stat data is not trusted next
 *    time and it is hashed again (git's "racily clean" entries).
 * Two weft processes in one directory at once: without cache_share(), the
 * last save wins and may drop the other's records. With it, each withdrawal
 * and each new success goes to the journal at once, and a save merges
 * with what is on disk (see cache_share()).
 */

struct cache;
struct cache_check;

/* What a check needs to know about one task. cache_check_new() copies it
 * all, so the task may change or go while the check runs. */
struct cache_task {
	const char *name;
	/* Directory the patterns are relative to (NULL or "": the current one);
	 * names in the state and the explanations are relative to it too. */
	const char *dir;
	const char *const *sources; /* glob patterns, '**' allowed */
	size_t nsources;
	const char *const *outputs; /* glob patterns; each must match a path */
	size_t noutputs;
	const char *command; /* the text as it will run; NULL: none */
	/* "NAME=VALUE", any order. Give what the recipe sets for the task, not
	 * the inherited environment, or every shell change makes tasks stale. */
	const char *const *env;
	size_t nenv;
	/* The deps' fingerprints, any order. For a dep that has no
	 * fingerprint (no sources, or its check failed) and ran, give a string
	 * that is new each time it runs, so this task runs too. */
	const char *const *deps;
	size_t ndeps;
};

/* Loads DIR/.weft/state (DIR: the recipe's directory) and applies
 * DIR/.weft/journal. Never fails: a missing state is an empty one; an
 * unreadable, truncated or corrupt one is empty too, and a journal that
 * cannot be read withdraws every success. Then *warning (when warning is
 * not NULL) gets a message the caller owns and frees, such as
 * ".weft/state: checksum mismatch; starting afresh"; it is NULL otherwise.
 * Loop thread. */
struct cache *cache_load(const char *dir, char **warning);
void cache_free(struct cache *c);

/* -B/--always-make: every cache_fresh() answers stale ("-B given"), and
 * checks hash every file instead of trusting stat data. Runs are still
 * recorded and saved as usual. */
void cache_ignore_state(struct cache *c);

/* Files whose mtime or ctime is less than ns before the moment they were
 * hashed are hashed again next time (default 2 s, enough for filesystems
 * with 1 s or 2 s timestamps). 0 trusts stat data at once (tests). */
void cache_set_racy_window(struct cache *c, int64_t ns);

/* Other runs may use the state at the same time: every read and write of
 * .weft/ from now on happens under flock(lock_fd, LOCK_EX) (the caller
 * opened it, and loaded the state under it too), successes are appended
 * to the journal as they are recorded, withdrawals always are, and
 * cache_save() first reads the state on disk again and keeps what other
 * runs recorded since, unless this run's own is the same success with
 * fresher stat data, or a withdrawal the journal could not take. Writes
 * a state at once when there is none, for journal lines to name. */
void cache_share(struct cache *c, int lock_fd);

/* From cache_stats_begin() to cache_stats_end(), the checks made from c
 * share what stat() says of a file: one that many checks look at (a
 * header that hundreds of depfiles name, an object file that is one
 * item's output and the link's source) is stat()ed once. An answer is as
 * good as the check it was first made for; it must not outlive a write
 * by anything the checks are ordered after, so end it before the first
 * command of the run starts. cache_refresh() ends it too: another run
 * has written files. Settling always stat()s afresh. Loop thread. */
void cache_stats_begin(struct cache *c);
void cache_stats_end(struct cache *c);
/* Whether checks made from c now share stat data. */
bool cache_stats_on(const struct cache *c);

/* Shared state: the record of the task called name becomes the one on
 * disk now (another run may have just recorded it). Loop thread. */
void cache_refresh(struct cache *c, const char *name);

/* Shared state: whether no other run has written .weft/ since this one
 * loaded it (or since this one last wrote it itself): none has withdrawn
 * a success before running a task, nor recorded one. A check that found
 * its task fresh, then this true, holds without the task's lock: had
 * another run started that task before this call, it would have
 * withdrawn its success first. Stats two files; once false, false for
 * the rest of the run. Without cache_share(), true. Loop thread. */
bool cache_unmoved(struct cache *c);

/* Replaces DIR/.weft/state atomically with what is in memory, as the
 * comment at the top says, creating .weft/ (0700) when needed; the file is
 * 0600. Does nothing when nothing changed since the load or last save.
 * Refuses to follow a symbolic link at .weft, the state or the temporary
 * file. Returns 0, or a negative errno (UV_E*) code: the state on disk is
 * then the previous one, or the new one when only the final sync of the
 * directory failed; never a mix. Loop thread. */
int cache_save(struct cache *c);

/* A new check for t. It copies t, and shares (read-only, reference
 * counted) the stat data the cache holds for the task's files, so it needs
 * no lock and may outlive c. Never fails. Loop thread, as cache_check_free(). */
struct cache_check *cache_check_new(const struct cache *c, const struct cache_task *t);
void cache_check_free(struct cache_check *k);

/* Computes the fingerprint: expands the source patterns (sorted, without
 * duplicates; only regular files count, symbolic links are followed, a
 * dangling one is no source), stats each file and hashes the ones whose
 * stat data changed, then checks that each output pattern matches a path.
 * Touches nothing but k, so it may run on any thread. A source that cannot
 * be read, or a directory that cannot be listed, makes an error (see
 * cache_check_error); the task must then run and is not recorded. */
void cache_check_run(struct cache_check *k); /* once per check */

/* cache_check_run(), but only when that is cheap, for the loop thread:
 * when the task's record names at most max_files files, its sources
 * and outputs patterns read one directory at most (glob_is_shallow), and
 * no file needs hashing. Returns true when k has run; false leaves k as it was, for
 * cache_check_run() (a file to hash, found half-way, is not hashed). */
bool cache_check_try(struct cache_check *k, size_t max_files);

/* Gives k, before cache_check_run(), the command text and the source and
 * output patterns that the task given to cache_check_new() left out
 * (NULL, 0): a caller may make them on the worker thread. k takes and
 * frees command (NULL: none) and the two arrays of nsources and
 * noutputs strings. Touches only k. */
void cache_check_take(struct cache_check *k, char *command, char **sources, size_t nsources, char **outputs,
		      size_t noutputs);

/* After cache_check_run(): the fingerprint, 32 lowercase hex digits, owned
 * by k; NULL when the check failed. */
const char *cache_check_fingerprint(const struct cache_check *k);
/* After cache_check_run(): "cannot read source 'PATH': REASON" and the
 * like, owned by k; NULL when none. */
const char *cache_check_error(const struct cache_check *k);
/* After cache_check_run(): how many sources were hashed (outputs do not
 * count), and how many sources the patterns found. */
size_t cache_check_hashed(const struct cache_check *k);
size_t cache_check_nsources(const struct cache_check *k);

/* Decides whether k's task may be skipped: *fresh is true when the last
 * run recorded for the task succeeded with the same fingerprint and every
 * output pattern matched. Returns why, for --explain, owned by k and valid
 * until the next call or cache_check_free(): "up to date", "never ran",
 * "-B given", "last run failed or was interrupted", "command changed",
 * "environment changed", "a dependency changed", "source 'P' changed",
 * "source 'P' added", "source 'P' removed" (with " (and N more)" when
 * several sources differ), "output 'P' is missing" (a file the outputs
 * patterns matched after the last success, or a plain name),
 * "output 'P' changed" (its content is not what the last success left),
 * "no output matches 'PATTERN'", or the check's error. Loop thread. */
const char *cache_fresh(const struct cache *c, struct cache_check *k, bool *fresh);

/* Withdraws the task's last success, durably, before its command starts
 * (see the top): a line in the journal, or when that cannot be written, a
 * whole cache_save(); nothing when .weft/ holds no success of the task
 * (none was loaded, and no other run has written there since: the caller
 * holds the task's lock). Keeps the stat data k measured, so files need
 * not be hashed again. Returns 0, or a negative errno when neither could
 * be written: the state on disk may then still call the task up to date,
 * and the caller should not start it. Loop thread. */
int cache_forget(struct cache *c, const struct cache_check *k);

/* The recipe still has a task (or an item) named name: its record is kept.
 * Loop thread. */
void cache_name(struct cache *c, const char *name);

/* Before the last save of a run: drops the records that no cache_name()
 * named and gone(name, ud) says are gone (gone may be NULL), and those
 * that no run has named for a month (tasks renamed or deleted). */
void cache_prune(struct cache *c, bool (*gone)(const char *name, void *ud), void *ud);

/* After the task ran: whether a source k found has changed since k
 * measured it (size, times, inode; or it is gone). A task whose sources
 * changed while it ran must not be recorded: its outputs may come from
 * content the fingerprint does not describe, even when a source went back
 * to what it was (a `git stash` round trip). Stats each source. */
bool cache_check_sources_changed(const struct cache_check *k);

/* After the task succeeded, on any thread (it touches only k): stats the
 * sources again (see cache_check_sources_changed), adds the files deps
 * names (a depfile's; NULL: none) to the sources, hashing those the check
 * had not measured, replaces the files the check found only through the
 * last depfile with deps, takes the fingerprint again, and hashes what
 * the outputs patterns match now: that is what cache_record() then keeps.
 * A file of deps that changed after the check began, or that is gone,
 * counts as changed (cache_check_changed), as one that cannot be hashed
 * is left out. */
struct strlist;
void cache_check_settle(struct cache_check *k, const struct strlist *deps);

/* After cache_check_settle(): whether a source changed while the task
 * ran; the task must then not be recorded. */
bool cache_check_changed(const struct cache_check *k);

/* Records that k's task succeeded (or was found fresh) with k's
 * fingerprint and keeps its stat data; saved by the next cache_save().
 * Call it only after the task's command exited with success, or after
 * cache_fresh() said fresh. Does nothing when k's check failed. Loop
 * thread. */
void cache_record(struct cache *c, const struct cache_check *k);

#endif
