/* Output rules: a task's expect, fail-on, capture and error-format regexes, compiled once at load, and what they find in one job's output lines. */
#ifndef WEFT_OUTRULES_H
#define WEFT_OUTRULES_H

#include <stdbool.h>
#include <stddef.h>

struct job;

enum outrule_kind {
	RULE_EXPECT,       /* the job fails unless a line matches */
	RULE_FAIL_ON,      /* the job fails if a line matches */
	RULE_CAPTURE,      /* named groups: values kept for the reports */
	RULE_ERROR_FORMAT, /* groups file, line, col, message: annotations */
	RULE_KINDS
};

/* The recipe keys, indexed by kind. */
extern const char *const outrule_keys[RULE_KINDS];

/* A task's rules (at most one regex of each kind). */
struct outrules;

/* Compiles `re` as the task's rule of `kind` (a UTF-8 pattern that also
 * reads invalid UTF-8 in the output, JIT-compiled). Returns 0, or -1 with
 * a message in *err (caller frees): PCRE2's, with the offset. */
int outrules_set(struct outrules **rules, enum outrule_kind kind, const char *re, char **err);
void outrules_free(struct outrules *rules);
/* The pattern of a kind, or NULL. */
const char *outrules_pattern(const struct outrules *rules, enum outrule_kind kind);

/* One capture: a named group's value in the last line that matched. */
struct capture {
	char *name;
	char *value;
};

/* One annotation: a line that matched error-format. line and col are 0
 * when the pattern has no such group or it did not take part. */
struct annotation {
	char *file;
	unsigned long line, col;
	char *message;
};

/* At most this many annotations are kept for one job; later ones are counted. */
#define OUTCHECK_MAX_NOTES 50
/* A line is matched on at most its first this many bytes. */
#define OUTCHECK_MAX_LINE 65536

/* What the rules found in one job's output so far. */
struct outcheck {
	const struct outrules *rules;
	char *part[2];            /* the line being read on stdout, stderr */
	size_t part_len[2];
	bool part_over[2];        /* that line is past OUTCHECK_MAX_LINE: the rest is dropped */
	bool expect_seen;
	char *fail_line;          /* the first line fail-on matched; NULL: none */
	struct capture *captures; /* in the pattern's name order */
	size_t ncaptures;
	struct annotation *notes;
	size_t nnotes;
	unsigned long notes_dropped;
	char *why;                /* after outcheck_judge: why the rules failed the job; NULL: they did not */
};

struct outcheck *outcheck_new(const struct outrules *rules);
void outcheck_free(struct outcheck *c);
/* Bytes of the job's stream 1 or 2, as they come. */
void outcheck_feed(struct outcheck *c, int stream, const char *data, size_t len);
/* The job is over: matches its last, unterminated lines, and turns a job
 * that succeeded into JOB_RULE when fail-on matched or expect did not. */
void outcheck_judge(struct outcheck *c, struct job *j);

#endif
