/* weft: parse the command line, load the recipe, pick the tasks, run them, and turn the outcome into the exit status. */
#define PCRE2_CODE_UNIT_WIDTH 8
#include <errno.h>
#include <fcntl.h>
#include <glob.h>
#include <libgen.h>
#include <pcre2.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <uv.h>

#include "cli.h"
#include "cluster_runner.h"
#include "diag.h"
#include "env.h"
#include "exec.h"
#include "events.h"
#include "exitcode.h"
#include "guard.h"
#include "joblog.h"
#include "jobserver.h"
#include "proc.h"
#include "recipe.h"
#include "report_cmd.h"
#include "run.h"
#include "show.h"
#include "sinks/sinks.h"
#include "tasksrc.h"
#include "term.h"
#include "uptodate.h"
#include "util.h"

extern char **environ;

/* A child must never get one of weft's own files as its stdout because
 * weft was started with fd 0, 1 or 2 closed. */
static void ensure_std_fds(void)
{
	for (int fd = 0; fd < 3; fd++)
		if (fcntl(fd, F_GETFD) < 0 && open("/dev/null", fd ? O_WRONLY : O_RDONLY) < 0)
			abort();
}

/* Selects the tasks that one TASK or /REGEX/ argument names; returns
 * false after printing why it names none. */
static bool select_target(struct graph *g, const char *arg)
{
	size_t len = strlen(arg);
	if (len >= 2 && arg[0] == '/' && arg[len - 1] == '/') {
		int err;
		PCRE2_SIZE off;
		pcre2_code *re = pcre2_compile((PCRE2_SPTR)(arg + 1), len - 2, 0, &err, &off, NULL);
		if (!re) {
			PCRE2_UCHAR msg[256];
			pcre2_get_error_message(err, msg, sizeof msg);
			fprintf(stderr, "weft: invalid regex %s: %s at offset %zu\n", arg, (char *)msg, (size_t)off);
			return false;
		}
		pcre2_match_data *md = pcre2_match_data_create_from_pattern(re, NULL);
		size_t hits = 0;
		for (size_t i = 0; i < g->ntasks; i++) {
			const char *name = g->tasks[i]->name;
			if (pcre2_match(re, (PCRE2_SPTR)name, strlen(name), 0, 0, md, NULL) >= 0) {
				graph_select(g, g->tasks[i]);
				hits++;
			}
		}
		pcre2_match_data_free(md);
		pcre2_code_free(re);
		if (!hits)
			fprintf(stderr, "weft: no task matches %s\n", arg);
		return hits > 0;
	}
	struct task *t = graph_find(g, arg);
	if (!t) {
		const char *hint = graph_suggest(g, arg);
		if (hint)
			fprintf(stderr, "weft: unknown task '%s' (did you mean '%s'?)\n", arg, hint);
		else
			fprintf(stderr, "weft: unknown task '%s'\n", arg);
		return false;
	}
	graph_select(g, t);
	return true;
}

static bool path_changed(const struct recipe *r, const struct cli *c)
{
	for (size_t i = 0; i < r->nenv; i++)
		if (strcmp(r->env[i].name, "PATH") == 0)
			return true;
	for (size_t i = 0; i < r->nvars; i++)
		if (strcmp(r->vars[i].name, "PATH") == 0)
			return true;
	for (size_t i = 0; i < c->nvars; i++)
		if (strcmp(c->vars[i].name, "PATH") == 0)
			return true;
	return false;
}

static int run(struct cli *c, struct recipe *r, const char *path, char **argv, const struct makeflags *mf)
{
	struct graph *g = &r->graph;
	/* -n: the same run, decisions included, with an executor that runs
	 * nothing and one sink that prints what would run. */
	bool dry = c->action == ACT_DRY_RUN;
	const struct kv *lists[] = {r->env, r->vars, c->vars};
	size_t counts[] = {r->nenv, r->nvars, c->nvars};

	/* Tasks run where the recipe is, wherever weft was started. */
	char *copy = xstrdup(path);
	const char *dir = dirname(copy);
	if (chdir(dir) < 0) {
		fprintf(stderr, "weft: cannot change to directory '%s': %s\n", dir, strerror(errno));
		free(copy);
		return EXIT_USAGE;
	}
	free(copy);

	struct events ev;
	events_init(&ev, argv);
	struct sink *evsink = NULL;
	if (c->run.events && !dry) {
		int err = events_sink_new(c->run.events, c->run.events_output, &ev, &evsink);
		if (err < 0) {
			fprintf(stderr, "weft: cannot write the events to '%s': %s\n", c->run.events, strerror(-err));
			return EXIT_USAGE;
		}
	}
	/* The files the run writes are opened before it starts: one that
	 * cannot be is a usage error, and nothing runs. */
	struct joblog *jl = NULL;
	struct sink *logs = NULL, *junit = NULL, *trace = NULL, *report = NULL;
	int err = 0;
	if (c->joblog && !dry && (err = joblog_open(&jl, c->joblog, true)) < 0)
		fprintf(stderr, "weft: cannot open the job log '%s': %s\n", c->joblog, strerror(-err));
	else if (c->run.junit && !dry && (err = junit_sink_new(c->run.junit, path, &junit)) < 0)
		fprintf(stderr, "weft: cannot write the JUnit report '%s': %s\n", c->run.junit, strerror(-err));
	else if (c->run.trace && !dry && (err = timeline_sink_new(c->run.trace, trace_write, &trace)) < 0)
		fprintf(stderr, "weft: cannot write the trace '%s': %s\n", c->run.trace, strerror(-err));
	else if (c->run.report && !dry && (err = timeline_sink_new(c->run.report, report_write, &report)) < 0)
		fprintf(stderr, "weft: cannot write the report '%s': %s\n", c->run.report, strerror(-err));
	if (err < 0) {
		struct sink *made[] = {evsink, junit, trace};
		for (size_t i = 0; i < 3; i++)
			if (made[i])
				made[i]->release(made[i]);
		if (jl)
			joblog_close(jl);
		return EXIT_USAGE;
	}
	if (jl)
		logs = joblog_sink_new(jl, c->joblog, &ev);

	/* Before the jobs' environment is made: it sets MAKEFLAGS for them. */
	unsigned jobs = c->jobs ? c->jobs : r->jobs ? r->jobs : uv_available_parallelism();
	struct jobserver *js;
	char *warning;
	jobserver_setup(mf, c->jobs != 0, c->run.jobserver_style, &jobs, &js, &warning);

	struct env env;
	env_init(&env, environ);
	for (size_t i = 0; i < r->nenv; i++)
		env_set(&env, r->env[i].name, r->env[i].value);
	for (size_t i = 0; i < r->nvars; i++)
		env_set(&env, r->vars[i].name, r->vars[i].value);
	for (size_t i = 0; i < c->nvars; i++)
		env_set(&env, c->vars[i].name, c->vars[i].value);
	char **shell = split_blanks(r->shell ? r->shell : "/bin/sh", NULL);

	term_init(c->color);
	/* Under CI, or with stdout not a terminal, the run is read as a log. */
	enum log_style style = env_is_true("GITHUB_ACTIONS") ? LOG_GITHUB : env_is_true("CI") ? LOG_CI : LOG_LINES;
	bool ci = style != LOG_LINES;
	enum output_mode mode = c->output;
	if (mode == OUTPUT_DEFAULT)
		mode = term_stdout_is_tty() && !ci ? OUTPUT_LINE : OUTPUT_GROUP;
	/* The status line is drawn only where stdout's lines go too, and can
	 * be erased before them; raw bytes may end mid-line: nothing to draw
	 * under. */
	if (mode == OUTPUT_RAW || ci || !term_stdout_is_tty() || c->quiet)
		term_no_status();
	if (mode == OUTPUT_RAW && ci)
		style = LOG_LINES; /* no header can go between raw bytes */
	size_t width = 0;
	for (size_t i = 0; i < g->ntasks; i++)
		if (g->tasks[i]->selected && strlen(g->tasks[i]->name) > width)
			width = strlen(g->tasks[i]->name);
	if (width > 24)
		width = 24;

	struct output_opts oo = {.mode = mode, .prefix = PREFIX_NAME, .width = width};
	if (mode == OUTPUT_GROUP)
		oo.prefix = PREFIX_NONE;
	/* --events=- owns stdout: the jobs' output is then only in the events. */
	bool out = !c->run.events || strcmp(c->run.events, "-") != 0;
	if (dry) {
		struct dryrun_opts dro = {r->shell, lists, counts, 3, c->vars, c->nvars, c->keep_going};
		events_add(&ev, dryrun_sink_new(&dro));
	} else {
		if (!term_can_status() && !c->quiet && (out || style == LOG_LINES)) {
			/* Before the output: its line heads the job's output. */
			struct log_opts lo = {.style = out ? style : LOG_LINES,
					      .heartbeat_ms = c->heartbeat_ms,
					      .live_output = mode != OUTPUT_GROUP};
			events_add(&ev, log_sink_new(&lo));
		}
		if (out)
			events_add(&ev, output_sink_new(&oo));
		if (term_can_status())
			events_add(&ev, status_sink_new());
		events_add(&ev, messages_sink_new("weft"));
		events_add(&ev, summary_sink_new(SUMMARY_TASKS));
		if (evsink)
			events_add(&ev, evsink);
		if (logs)
			events_add(&ev, logs);
		if (junit)
			events_add(&ev, junit);
		if (trace)
			events_add(&ev, trace);
		if (report)
			events_add(&ev, report);
	}

	struct run_opts o = {
		.jobs = jobs,
		.grace_ms = c->grace_ms,
		.shell = shell,
		/* Skipping the shell must not change what runs: only with the
		 * default shell and weft's own PATH. */
		.direct = !r->shell && !path_changed(r, c),
		.envp = env.v,
		.cluster = dry ? 0 : c->run.cluster,
		.requeue = c->run.requeue,
		.js = js,
		.dry = dry,
		.no_ahead = jl != NULL,
	};
	if (dry)
		o.jobs = 1; /* one order, the one weft -j1 would take */
	events_begin(&ev, run_fit_jobs(o.jobs));
	if (warning)
		events_say(&ev, MSG_WARNING, NULL, "%s", warning);
	free(warning);

	struct uptodate *utd = NULL;
	for (size_t i = 0; i < g->ntasks && !utd; i++)
		if (g->tasks[i]->selected && uptodate_manages(g->tasks[i])) {
			struct uptodate_opts uo = {
				.always = c->always_make,
				.explain = c->explain,
				.envs = lists,
				.nenvs = counts,
				.nenv_lists = 3,
				.ev = &ev,
				.dry = dry,
			};
			utd = uptodate_new(g, &uo);
		}
	struct tasksrc ts;
	tasksrc_init(&ts, g, c->keep_going, &env, c->vars, c->nvars, utd);
	struct run_result res;
	run_jobs(&ev, &ts.src, &o, &res);
	if (utd) {
		/* Whatever the outcome: successes are kept, and a run that was
		 * stopped never recorded one it did not have. */
		bool whole = !res.signal && !ev.run.failed;
		for (size_t i = 0; i < g->ntasks && whole; i++)
			whole = g->tasks[i]->selected;
		uptodate_save(utd, whole);
	}
	if (!res.signal && term_lost())
		events_say(&ev, MSG_ERROR, NULL, "output was lost: %s", strerror(-term_lost()));
	int junit_err = junit ? junit_sink_finish(junit) : 0;
	if (junit_err)
		events_say(&ev, MSG_ERROR, NULL, "cannot write the JUnit report '%s': %s", c->run.junit,
			   strerror(-junit_err));
	int trace_err = trace ? timeline_sink_finish(trace) : 0;
	if (trace_err)
		events_say(&ev, MSG_ERROR, NULL, "cannot write the trace '%s': %s", c->run.trace, strerror(-trace_err));
	int report_err = report ? timeline_sink_finish(report) : 0;
	if (report_err)
		events_say(&ev, MSG_ERROR, NULL, "cannot write the report '%s': %s", c->run.report,
			   strerror(-report_err));
	bool lost = events_sink_error(evsink) || joblog_sink_failed(logs) || junit_err || trace_err || report_err ||
		    term_lost();
	int st = res.signal ? -res.signal : ev.run.failed || lost ? EXIT_FAILED : EXIT_OK;
	events_end(&ev, st < 0 ? EXIT_SIGNAL - st : st, res.signal);
	/* The source's units (a check stopped half-way) hold locks of utd. */
	tasksrc_release(&ts);
	uptodate_free(utd);
	jobserver_free(js);
	events_release(&ev);
	if (jl)
		joblog_close(jl);
	free_words(shell);
	env_release(&env);
	return st;
}

int main(int argc, char **argv)
{
	struct cli c;
	struct recipe r;
	struct diag d;
	int status = EXIT_USAGE;

	signal(SIGPIPE, SIG_IGN);
	ensure_std_fds();
	/* The words as given, for the run's events: option parsing reorders argv. */
	char **words = xcalloc((size_t)argc + 1, sizeof *words);
	memcpy(words, argv, (size_t)argc * sizeof *words);
	if (argc == 2 && strcmp(argv[1], "--guard") == 0)
		return guard_main();
	if (argc > 1 && strcmp(argv[1], "--runner") == 0) {
		status = cluster_runner_main(argc - 1, argv + 1);
		goto done;
	}
	if (argc > 1 && strcmp(argv[1], "exec") == 0) {
		status = exec_main(argc - 1, argv + 1, words);
		goto done;
	}
	if (argc > 1 && strcmp(argv[1], "report") == 0) {
		status = report_main(argc - 1, argv + 1, words);
		goto done;
	}
	if (cli_parse(&c, argc, argv) < 0) {
		cli_release(&c);
		goto done;
	}
	if (c.action == ACT_HELP) {
		cli_usage();
		cli_release(&c);
		status = EXIT_OK;
		goto done;
	}
	if (c.action == ACT_VERSION) {
		printf("weft %s\n", WEFT_VERSION);
		cli_release(&c);
		status = EXIT_OK;
		goto done;
	}
	if (c.directory && chdir(c.directory) < 0) {
		fprintf(stderr, "weft: cannot change to directory '%s': %s\n", c.directory, strerror(errno));
		cli_release(&c);
		goto done;
	}
	/* The files weft writes are named, as -f, relative to where weft is
	 * now, though tasks run in the recipe's directory. */
	char *paths[5] = {NULL, NULL, NULL, NULL, NULL};
	const char **named[5] = {&c.run.events, &c.run.junit, &c.joblog, &c.run.trace, &c.run.report};
	for (size_t i = 0; i < 5; i++)
		if (*named[i] && (*named[i])[0] != '/' && strcmp(*named[i], "-") != 0) {
			char *cwd = getcwd(NULL, 0);
			if (cwd)
				*named[i] = paths[i] = xasprintf("%s/%s", cwd, *named[i]);
			free(cwd);
		}
	char *path = c.file ? xstrdup(c.file) : recipe_find();
	if (!path) {
		fprintf(stderr, "weft: no weft.ini in . or any parent directory (-f FILE reads another)\n");
		/* Recipes under another name, here: say which. */
		glob_t gl;
		if (glob("*.ini", 0, NULL, &gl) == 0) {
			fprintf(stderr, "weft: .ini files here:");
			for (size_t i = 0; i < gl.gl_pathc && i < 10; i++)
				fprintf(stderr, " %s", gl.gl_pathv[i]);
			fprintf(stderr, "%s\n", gl.gl_pathc > 10 ? " ..." : "");
			globfree(&gl);
		}
		cli_release(&c);
		for (size_t i = 0; i < 5; i++)
			free(paths[i]);
		goto done;
	}
	/* A weft that make runs follows make's -n and -k, as a make below make would. */
	struct makeflags mf;
	makeflags_parse(getenv("MAKEFLAGS"), &mf);
	if (mf.dry_run && c.action == ACT_RUN)
		c.action = ACT_DRY_RUN;
	if (mf.keep_going)
		c.keep_going = true;
	recipe_init(&r);
	r.cli = c.vars;
	r.ncli = c.nvars;
	diag_init(&d, path);
	int err = recipe_load(&r, path, &d);
	if (err < 0) {
		char target[4096];
		ssize_t n = err == -ENOENT ? readlink(path, target, sizeof target - 1) : -1;
		if (n >= 0)
			fprintf(stderr, "weft: cannot read '%s': a symbolic link to '%.*s', which does not exist\n", path,
				(int)n, target);
		else
			fprintf(stderr, "weft: cannot read '%s': %s\n", path, strerror(-err));
		goto out;
	}
	size_t errors = d.errors;
	diag_flush(&d);
	if (errors)
		goto out;

	struct graph *g = &r.graph;
	bool ok = true;
	for (size_t i = 0; i < c.ntargets; i++)
		ok &= select_target(g, c.targets[i]);
	if (!ok)
		goto out;
	if (!c.ntargets && g->ntasks) {
		struct task *t = r.default_task ? graph_find(g, r.default_task) : g->tasks[0];
		graph_select(g, t);
	}

	switch (c.action) {
	case ACT_LIST:
		show_list(g);
		status = EXIT_OK;
		break;
	case ACT_LIST_VARS:
		/* The values the tasks would get: the command line's win (and
		 * are in r.vars and r.env already). */
		show_vars(r.vars, r.nvars, r.env, r.nenv);
		status = EXIT_OK;
		break;
	case ACT_GRAPH:
		show_graph(g, c.ntargets > 0);
		status = EXIT_OK;
		break;
	default:
		if (!g->ntasks) {
			fprintf(stderr, "weft: %s has no tasks\n", path);
			break;
		}
		if ((err = proc_setup()) < 0) {
			fprintf(stderr, "weft: cannot open /dev/null: %s\n", strerror(-err));
			break;
		}
		status = run(&c, &r, path, words, &mf);
		break;
	}
out:
	makeflags_release(&mf);
	diag_release(&d);
	recipe_release(&r);
	free(path);
	for (size_t i = 0; i < 5; i++)
		free(paths[i]);
	cli_release(&c);
done:
	free(words);
	fflush(stdout);
	uv_loop_close(uv_default_loop());
	/* Every job is over: the guard can go, before weft does. */
	guard_end();
	if (status < 0) {
		/* Die of the same signal, so a calling shell or make sees it. */
		int sig = -status;
		sigset_t set;
		signal(sig, SIG_DFL);
		sigemptyset(&set);
		sigaddset(&set, sig);
		sigprocmask(SIG_UNBLOCK, &set, NULL);
		raise(sig);
		return EXIT_SIGNAL + sig;
	}
	return status;
}
