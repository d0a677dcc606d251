/* GNU make's jobserver, both sides: reading MAKEFLAGS, taking and giving back tokens, and serving weft's own -j slots to its jobs. */
#ifndef WEFT_JOBSERVER_H
#define WEFT_JOBSERVER_H

#include <stdbool.h>
#include <uv.h>

/* What MAKEFLAGS (of make or another jobserver) says to weft. */
struct makeflags {
	bool dry_run;      /* 'n' in the first word (make -n) */
	bool keep_going;   /* 'k' in the first word (make -k) */
	unsigned jobs;     /* the last -jN; 0: none */
	enum {
		MF_AUTH_NONE,  /* no jobserver named */
		MF_AUTH_OFF,   /* a negative fd: not for weft */
		MF_AUTH_FDS,   /* R,W: rfd and wfd */
		MF_AUTH_FIFO,  /* fifo:PATH: fifo */
	} auth;
	int rfd, wfd;
	char *fifo;        /* owned; NULL unless MF_AUTH_FIFO */
};

/* Reads s (NULL is the empty string): the first word's flag letters (when
 * it does not start with '-'), the last -jN, and the last
 * --jobserver-auth= or --jobserver-fds= word. */
void makeflags_parse(const char *s, struct makeflags *mf);
void makeflags_release(struct makeflags *mf);

/* s without its jobserver words (and, when jobs > 0, with its -j words
 * replaced by -jN), with --jobserver-auth=AUTH added before any "--"
 * (variable overrides follow that). A new string, the caller's. */
char *makeflags_with_auth(const char *s, unsigned jobs, const char *auth);

/* How weft names its own jobserver to its jobs. */
enum jobserver_style {
	JS_STYLE_PIPE,     /* --jobserver-auth=R,W, fds every job inherits (make >= 3.8x, cargo) */
	JS_STYLE_FIFO,     /* --jobserver-auth=fifo:PATH (make >= 4.4, ninja >= 1.13, cargo) */
};

/* Parses "pipe" or "fifo"; returns 0, or -1 (and leaves *out alone). */
int jobserver_style_parse(const char *s, enum jobserver_style *out);

struct jobserver;

/* The token of the implicit slot every client owns: a job that holds it
 * has nothing to give back. */
#define JS_IMPLICIT 256

/*
 * Sets up the jobserver of a run in weft's own process, before any job's
 * environment is made:
 * - when mf names one and jobs_forced is false (no -j on weft's command
 *   line), weft joins it as a client, and its jobs share it too (MAKEFLAGS
 *   as it is, R,W moved to fds above 9 that every job inherits);
 * - else weft serves *jobs slots itself: *jobs - 1 tokens in a pipe
 *   (pipe style, reopened through /proc/self/fd for weft's own ends) or
 *   a fifo in a private temporary directory, named in MAKEFLAGS in
 *   `style`.
 * Either way make's own fds are closed on exec: no job gets them by
 * accident. MAKEFLAGS in weft's environment is set for the jobs.
 * Returns the jobserver in *out, or NULL with a message in *warning (the
 * caller's to free and print) when make's jobserver cannot be used (fds
 * make did not pass, a fifo that cannot be opened): the run is then
 * serial, *jobs is 1 and weft serves that one slot. *out is NULL too when
 * not even a server can be made (no temporary directory): then jobs get
 * no MAKEFLAGS change and *warning says why.
 */
void jobserver_setup(const struct makeflags *mf, bool jobs_forced, enum jobserver_style style, unsigned *jobs,
		     struct jobserver **out, char **warning);

/* Undoes jobserver_setup: closes every fd, removes a server's fifo and its
 * directory. NULL is a no-op. Every token must have been given back. */
void jobserver_free(struct jobserver *js);

/* Whether js is weft's own (a server) rather than make's. */
bool jobserver_is_server(const struct jobserver *js);

/* For the run's length: ready(ud) is called on loop when a token may be
 * there after jobserver_take() found none. jobserver_detach() closes the
 * handle (a uv_run must follow). */
void jobserver_attach(struct jobserver *js, uv_loop_t *loop, void (*ready)(void *), void *ud);
void jobserver_detach(struct jobserver *js);

/* Takes a token without waiting: returns its byte (0-255), or -1 when
 * none is there now (ready() comes once one may be). */
int jobserver_take(struct jobserver *js);

/* Gives back what jobserver_take() returned (JS_IMPLICIT and -1 are
 * no-ops): the same byte, on every end of a job. */
void jobserver_give(struct jobserver *js, int token);

/* Stops waiting for a token (no ready() until the next failed take). */
void jobserver_unwatch(struct jobserver *js);

/* Called when no job of weft runs, so none holds a token: a server puts
 * its pool back to full, reclaiming tokens that a killed job took with it.
 * A client does nothing (make's pool is not weft's to count). */
void jobserver_idle(struct jobserver *js);

/* In a cluster's runner process: the R,W fds that MAKEFLAGS names (the
 * master's jobserver) are passed on to this runner's jobs. */
void jobserver_pass_on(void);

#endif
