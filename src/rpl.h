/* --rpl: GNU parallel's replacement strings of the user's, for the Perl expressions that need no Perl: its own strings' expressions and chains of s/REGEX/TEXT/ run with PCRE2. */
#ifndef WEFT_RPL_H
#define WEFT_RPL_H

#include "tmpl.h"

struct rpl;

/* Reads --rpl's 'TAG EXPR': EXPR one of GNU parallel's own strings'
 * expressions (an alias for it), or s/REGEX/TEXT/FLAGS substitutions (any
 * delimiter; flags g, i, s, m, x; $1... in TEXT) separated by ;. Returns
 * 0 and *out, or -1 with *why saying what weft cannot do without Perl. */
int rpl_new(const char *spec, struct rpl **out, const char **why);

/* What tmpl_new_rpl takes; valid while rp lives. */
const struct tmpl_rpl *rpl_tmpl(const struct rpl *rp);

void rpl_free(struct rpl *rp);

#endif
