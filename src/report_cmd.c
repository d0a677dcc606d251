/* weft report: the HTML report of a finished run, built from its --events file or from a job log (weft's or GNU parallel's). */
#include "report_cmd.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "events.h"
#include "exitcode.h"
#include "joblog.h"
#include "opt.h"
#include "sinks/sinks.h"
#include "timeline.h"
#include "util.h"
#include "wire.h"

static const char report_usage[] =
	"usage: weft report FILE -o OUT.html\n"
	"\n"
	"Write the HTML report of a finished run, from its --events file or its job log\n"
	"(weft's or GNU parallel's --joblog).\n"
	"\n"
	"Options:\n"
	"  -o, --output=FILE     write the report to FILE\n"
	"  -h, --help            print this help and exit\n";

static const char joblog_header[] = "Seq\tHost\tStarttime\tJobRuntime\t";

/* Reads an --events file into tl: every line an event, but a last line
 * cut short by a killed run. Returns 0, or -1 after saying what is wrong. */
static int read_events(FILE *f, const char *path, struct timeline *tl)
{
	char *line = NULL;
	size_t cap = 0;
	ssize_t n;
	unsigned long lineno = 0, bad = 0;
	while ((n = getline(&line, &cap, f)) > 0) {
		lineno++;
		bool whole = line[n - 1] == '\n';
		size_t len = (size_t)n - whole;
		if (!len)
			continue;
		struct wire_event w;
		if (wire_decode(line, len, &w) < 0) {
			if (!whole)
				break; /* torn */
			if (bad++ < 10)
				fprintf(stderr, "weft report: %s:%lu: not an event of weft's --events\n", path, lineno);
			continue;
		}
		w.ev.at_ns = w.t_us * 1000;
		timeline_event(tl, &w.ev);
		wire_event_release(&w);
	}
	free(line);
	if (ferror(f)) {
		fprintf(stderr, "weft report: cannot read '%s': %s\n", path, strerror(errno));
		return -1;
	}
	if (bad > 10)
		fprintf(stderr, "weft report: %s: %lu lines that are not events in all\n", path, bad);
	return bad ? -1 : 0;
}

/* A job log's records, gathered before their lanes can be known. */
struct records {
	struct rec {
		unsigned long long seq;
		char *host, *cmd;
		double start, runtime;
		int exitval, signal;
	} *v;
	size_t n, cap;
	unsigned long bad;
	const char *path;
};

static void rec_cb(void *ud, const struct joblog_rec *r)
{
	struct records *rs = ud;
	grow(&rs->v, &rs->cap, rs->n + 1, sizeof *rs->v);
	rs->v[rs->n++] = (struct rec){r->seq, xstrdup(r->host ? r->host : ":"), xstrdup(r->command), r->start,
				      r->runtime, r->exitval, r->signal};
}

static void bad_cb(void *ud, unsigned long line, const char *why)
{
	struct records *rs = ud;
	if (rs->bad++ < 10)
		fprintf(stderr, "weft report: %s:%lu: %s\n", rs->path, line, why);
}

static int by_start(const void *a, const void *b)
{
	const struct rec *x = a, *y = b;
	return x->start < y->start ? -1 : x->start > y->start;
}

/* Feeds the records to tl as the events of a run: the first starts at 0,
 * each host (":" is this machine) is a runner of its own, and a job goes
 * to the first of its host's lanes that is free when it starts. */
static void replay_records(struct records *rs, struct timeline *tl, char **argv)
{
	qsort(rs->v, rs->n, sizeof *rs->v, by_start);
	double t0 = rs->n ? rs->v[0].start : 0;
	char **hosts = NULL;
	size_t nhosts = 0, hosts_cap = 0;
	double *free_at = NULL; /* [host * lanes_cap + lane]: when the lane is free again */
	size_t lanes_cap = rs->n ? rs->n : 1, *nlanes = NULL;
	unsigned max_lanes = 0;
	for (size_t i = 0; i < rs->n; i++) {
		size_t h = 0;
		while (h < nhosts && strcmp(hosts[h], rs->v[i].host) != 0)
			h++;
		if (h == nhosts) {
			grow(&hosts, &hosts_cap, nhosts + 1, sizeof *hosts);
			hosts[nhosts++] = rs->v[i].host;
			nlanes = xrealloc(nlanes, nhosts * sizeof *nlanes);
			nlanes[h] = 0;
			free_at = xrealloc(free_at, nhosts * lanes_cap * sizeof *free_at);
		}
		double *lanes = free_at + h * lanes_cap;
		size_t l = 0;
		/* The log's times are to the millisecond (the start rounded, the
		 * runtime cut): a job that starts within 1 ms of a lane's end
		 * follows it there. */
		while (l < nlanes[h] && lanes[l] > rs->v[i].start + 0.001)
			l++;
		if (l == nlanes[h])
			nlanes[h]++;
		lanes[l] = rs->v[i].start + rs->v[i].runtime;
		if (nlanes[h] > max_lanes)
			max_lanes = (unsigned)nlanes[h];
		/* The local machine is weft itself; the others are runners. */
		unsigned runner = strcmp(rs->v[i].host, ":") == 0 ? 0 : (unsigned)(h + 1);
		struct job j = {.id = i + 1, .name = rs->v[i].cmd, .cmd = rs->v[i].cmd, .seq = rs->v[i].seq,
				.slot = (unsigned)l + 1, .runner = runner};
		j.result = rs->v[i].signal ? JOB_SIGNAL : rs->v[i].exitval ? JOB_EXIT : JOB_OK;
		j.exit_code = rs->v[i].exitval;
		j.term_signal = rs->v[i].signal;
		uint64_t start = (uint64_t)((rs->v[i].start - t0) * 1e9);
		uint64_t end = start + (uint64_t)(rs->v[i].runtime * 1e9);
		struct event e = {.type = EV_QUEUED, .job = &j, .at_ns = start};
		if (i == 0) {
			struct run_info run = {.version = WEFT_VERSION, .argv = argv};
			struct event begin = {.type = EV_RUN_START, .run = &run};
			timeline_event(tl, &begin);
		}
		timeline_event(tl, &e);
		e.type = EV_STARTED;
		timeline_event(tl, &e);
		e.type = EV_FINISHED;
		e.at_ns = end;
		timeline_event(tl, &e);
	}
	tl->slots = max_lanes;
	free(hosts);
	free(nlanes);
	free(free_at);
}

static int read_joblog(const char *path, struct timeline *tl, char **argv)
{
	struct records rs = {.path = path};
	int err = joblog_read(path, rec_cb, bad_cb, &rs, NULL);
	if (err < 0)
		fprintf(stderr, "weft report: cannot read '%s': %s\n", path, strerror(-err));
	else if (rs.bad > 10)
		fprintf(stderr, "weft report: %s: %lu lines that are not records in all\n", path, rs.bad);
	if (!err && !rs.bad)
		replay_records(&rs, tl, argv);
	for (size_t i = 0; i < rs.n; i++) {
		free(rs.v[i].host);
		free(rs.v[i].cmd);
	}
	free(rs.v);
	return err || rs.bad ? -1 : 0;
}

static int bad(const char *fmt, const char *arg)
{
	return opt_bad("weft report", fmt, arg);
}

int report_main(int argc, char **argv, char **words)
{
	static const struct option longopts[] = {
		{"output", required_argument, NULL, 'o'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	const char *out = NULL;
	int ch;
	optind = 1;
	opterr = 0;
	while ((ch = getopt_long(argc, argv, ":o:h", longopts, NULL)) != -1) {
		if (ch == 'h') {
			fputs(report_usage, stdout);
			return EXIT_OK;
		}
		if (ch != 'o') {
			opt_bad_getopt("weft report", ch, argv, longopts);
			return EXIT_USAGE;
		}
		if (!*optarg) {
			bad("invalid value '%s' for --output (a file)", optarg);
			return EXIT_USAGE;
		}
		out = optarg;
	}
	if (optind >= argc || optind + 1 < argc || !out) {
		if (optind >= argc)
			bad("missing %s: the run's --events file or job log", "FILE");
		else if (optind + 1 < argc)
			bad("unexpected argument '%s' (one FILE only)", argv[optind + 1]);
		else
			bad("missing %s", "-o OUT.html");
		return EXIT_USAGE;
	}
	const char *path = argv[optind];

	FILE *f = fopen(path, "re");
	if (!f) {
		fprintf(stderr, "weft report: cannot read '%s': %s\n", path, strerror(errno));
		return EXIT_USAGE;
	}
	/* Which kind of file: a job log starts with its header, events with '{'. */
	char head[sizeof joblog_header] = {0};
	size_t got = fread(head, 1, sizeof joblog_header - 1, f);
	rewind(f);
	bool joblog = got == sizeof joblog_header - 1 && memcmp(head, joblog_header, got) == 0;
	if (!joblog && (got == 0 || head[0] != '{')) {
		fprintf(stderr, "weft report: '%s' is neither an --events file nor a job log\n", path);
		fclose(f);
		return EXIT_USAGE;
	}
	struct timeline tl;
	timeline_init(&tl);
	int r = joblog ? read_joblog(path, &tl, words) : read_events(f, path, &tl);
	fclose(f);
	struct outfile of;
	int err = 0;
	if (r == 0 && (err = outfile_open(&of, out)) == 0) {
		struct buf b;
		buf_init(&b);
		timeline_close(&tl);
		report_write(&b, &tl);
		err = outfile_commit(&of, b.p, b.len);
		buf_release(&b);
	}
	if (err)
		fprintf(stderr, "weft report: cannot write the report '%s': %s\n", out, strerror(-err));
	timeline_release(&tl);
	return r < 0 ? EXIT_USAGE : err ? EXIT_FAILED : EXIT_OK;
}
