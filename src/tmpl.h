/* Command templates, for weft exec and foreach tasks alike: GNU parallel's replacement strings ({} {.} {/} {//} {/.} {#} {%} {N...}) expanded and shell-quoted per input. */
#ifndef WEFT_TMPL_H
#define WEFT_TMPL_H

#include <stdbool.h>
#include <stddef.h>

struct buf;
struct tmpl;

/* One input of a job: its arguments (one per input source, or the -N
 * group) and the numbers behind {#} and {%}. Borrowed for the call. */
struct tmpl_input {
	const char *const *args; /* args[i] holds lens[i] bytes; NULs allowed */
	const size_t *lens;
	size_t nargs;            /* 0: {} and every {N} expand to nothing */
	unsigned long long seq;  /* {#}: the job's sequence number, from 1 */
	unsigned slot;           /* {%}: the job's slot, from 1 */
};

/* Parses the command words, joined by single spaces as GNU parallel does;
 * the words are shell code and are not quoted. Never fails: text that is
 * not a known replacement string stays literal ("{foo}", "{", "}", "{0}",
 * "{+1}", "{ }"). The words are copied; free the result with tmpl_free(). */
struct tmpl *tmpl_new(char *const *words, size_t nwords);

/* As tmpl_new; with plus, GNU parallel's --plus strings too: {+/} {+.}
 * {+..} {+...} {..} {...} {/..} {/...} (and their {N...} forms), {##}
 * (the number of jobs), {0#} and {0%} ({#} and {%} padded with zeros). */
struct tmpl *tmpl_new_plus(char *const *words, size_t nwords, bool plus);

/* A replacement string of the user's (--rpl): tag in the command, or,
 * for a tag "{X}", also "{NX}" for arg N. Either it stands for one of the
 * built-in strings, alias ("{/}", "{#}", "{..}"...), or apply turns each
 * arg's value s[0..n) into what is appended to out. Borrowed by the
 * templates made with it. */
struct tmpl_rpl {
	const char *tag;
	const char *alias;
	void (*apply)(const void *ud, const char *s, size_t n, struct buf *out);
	const void *ud;
};

/* As tmpl_new_plus, with the user's replacement strings too, which are
 * looked for first, in order. */
struct tmpl *tmpl_new_rpl(char *const *words, size_t nwords, bool plus, const struct tmpl_rpl *rpls, size_t nrpls);

/* The numbers behind {##}, {0#} and {0%}: the number of jobs and -j. */
void tmpl_set_counts(struct tmpl *t, unsigned long long total, unsigned jobs);

/* Whether it uses {%} or {0%}, the job's slot. */
bool tmpl_uses_slot(const struct tmpl *t);
/* Whether it uses {##} or {0#}, which need the number of jobs first. */
bool tmpl_needs_total(const struct tmpl *t);
void tmpl_free(struct tmpl *t);

/* Whether the template is one replacement string of an input and nothing
 * else ("{}", "{1}", "{.}"...): GNU parallel then runs the input as the
 * command, unquoted. */
bool tmpl_is_one_arg(const struct tmpl *t);

/* Whether the template uses an input: {} {.} {/} {//} {/.} or any {N...}
 * ({#} and {%} do not count). */
bool tmpl_has_inputs(const struct tmpl *t);

/* Appends the command for one input to out (out is not reset). Each
 * replacement string becomes its value shell-quoted as one word per arg,
 * except {#} and {%}, which are plain numbers. {} and the bare path forms
 * give every arg, each transformed and quoted, joined by a space; {N} is
 * arg N (1-based; {-N} counts from the last) and expands to nothing when
 * there is no such arg. A template with no replacement string at all,
 * {#} and {%} included (GNU parallel's rule), gets the args appended, each
 * quoted, after a space. Never fails. */
void tmpl_expand(const struct tmpl *t, const struct tmpl_input *in, struct buf *out);

/* As tmpl_expand, for GNU parallel's -X: in's args come in ntuples groups
 * (one per input), group k ending before args[tuple_end[k]], and each word
 * of the command (cut at its spaces) that holds an arg's replacement string
 * is repeated once per group, the copies separated by a space. */
void tmpl_expand_context(const struct tmpl *t, const struct tmpl_input *in, const size_t *tuple_end, size_t ntuples,
			 struct buf *out);

/* As tmpl_expand, for text that is shown rather than run (--tagstring):
 * values go in as they are, unquoted, and nothing is appended. */
void tmpl_expand_plain(const struct tmpl *t, const struct tmpl_input *in, struct buf *out);

#endif
