/* A run's timeline as the HTML report (--report=FILE, weft report): one self-contained page, the page of src/report/page.html with the run's timeline in it as JSON. */
#include "sinks.h"

#include <stdlib.h>
#include <string.h>

#include "../events.h"
#include "../exitcode.h"
#include "../timeline.h"
#include "../util.h"
#include "../wire.h"
#include "report_page.h" /* report_page[]: src/report/page.html, made by the Makefile */

/* Where the page takes the run's JSON. */
#define MODEL_MARK "@WEFT_MODEL@"

static void str(struct buf *b, const char *s)
{
	wire_add_str(b, s, strlen(s));
}

static void key_str(struct buf *b, const char *k, const char *v)
{
	buf_addf(b, ",\"%s\":", k);
	str(b, v);
}

/* The result as the page names its colours. */
static const char *result_name(const struct tl_bar *bar)
{
	if (!bar->finished)
		return "running";
	switch (bar->result) {
	case JOB_OK:
		return bar->up_to_date ? "uptodate" : "ok";
	case JOB_EXIT:
	case JOB_RULE:
		return "failed";
	case JOB_SIGNAL:
		return "signal";
	case JOB_TIMEOUT:
		return "timeout";
	case JOB_SPAWN_ERROR:
		return "spawn";
	default:
		return "running";
	}
}

/* The lane of each bar: its index among the distinct (runner, slot)
 * pairs, in that order. */
static size_t *lanes_of(const struct timeline *tl, struct buf *b)
{
	size_t *lane = xcalloc(tl->nbars + 1, sizeof *lane);
	unsigned max_runner = 0, max_slot = tl->slots;
	for (size_t i = 0; i < tl->nbars; i++) {
		if (tl->bars[i].runner > max_runner)
			max_runner = tl->bars[i].runner;
		if (tl->bars[i].slot > max_slot)
			max_slot = tl->bars[i].slot;
	}
	size_t ncells = ((size_t)max_runner + 1) * ((size_t)max_slot + 1);
	size_t *index = xcalloc(ncells, sizeof *index); /* 0: not used; else lane + 1 */
	for (size_t i = 0; i < tl->nbars; i++)
		index[(size_t)tl->bars[i].runner * (max_slot + 1) + tl->bars[i].slot] = 1;
	buf_adds(b, ",\"lanes\":[");
	size_t n = 0;
	for (size_t c = 0; c < ncells; c++)
		if (index[c]) {
			buf_addf(b, "%s{\"runner\":%zu,\"slot\":%zu}", n ? "," : "", c / (max_slot + 1), c % (max_slot + 1));
			index[c] = ++n;
		}
	buf_adds(b, "]");
	for (size_t i = 0; i < tl->nbars; i++)
		lane[i] = index[(size_t)tl->bars[i].runner * (max_slot + 1) + tl->bars[i].slot] - 1;
	free(index);
	return lane;
}

static void add_tasks(struct buf *b, const struct timeline *tl)
{
	buf_adds(b, ",\"tasks\":[");
	for (size_t i = 0; i < tl->ntasks; i++) {
		const struct tl_task *t = &tl->tasks[i];
		buf_adds(b, i ? ",{\"name\":" : "{\"name\":");
		str(b, t->name);
		buf_adds(b, ",\"deps\":[");
		size_t n = 0;
		/* As indexes; a dep that never came to the run has no jobs to wait for. */
		for (size_t k = 0; k < t->ndeps; k++)
			for (size_t d = 0; d < tl->ntasks; d++)
				if (strcmp(tl->tasks[d].name, t->deps[k]) == 0)
					buf_addf(b, "%s%zu", n++ ? "," : "", d);
		buf_adds(b, "]}");
	}
	buf_adds(b, "]");
}

static void add_jobs(struct buf *b, const struct timeline *tl)
{
	buf_adds(b, ",\"jobs\":[");
	for (size_t i = 0; i < tl->njobs; i++) {
		const struct tl_job *j = &tl->jobs[i];
		buf_addf(b, "%s{\"id\":%llu", i ? "," : "", j->id);
		key_str(b, "name", j->name);
		if (j->task != TL_NONE)
			buf_addf(b, ",\"task\":%zu", j->task);
		if (j->cmd)
			key_str(b, "cmd", j->cmd);
		if (j->skipped)
			key_str(b, "skipped", j->skipped);
		buf_adds(b, "}");
	}
	buf_adds(b, "]");
}

static void add_bars(struct buf *b, const struct timeline *tl, const size_t *lane)
{
	buf_adds(b, ",\"bars\":[");
	for (size_t i = 0; i < tl->nbars; i++) {
		const struct tl_bar *bar = &tl->bars[i];
		buf_addf(b, "%s{\"job\":%zu,\"lane\":%zu,\"start\":%llu,\"end\":%llu,\"result\":\"%s\"", i ? "," : "",
			 bar->job, lane[i], (unsigned long long)bar->start_us, (unsigned long long)bar->end_us,
			 result_name(bar));
		key_str(b, "outcome", bar->outcome ? bar->outcome : "not finished");
		if (bar->retried)
			buf_adds(b, ",\"retried\":true");
		if (bar->ncaptures) {
			buf_adds(b, ",\"captures\":");
			wire_add_captures(b, bar->captures, bar->ncaptures);
		}
		buf_adds(b, "}");
	}
	buf_adds(b, "]");
}

static void add_messages(struct buf *b, const struct timeline *tl)
{
	static const char *const levels[] = {"info", "warning", "error"};
	buf_adds(b, ",\"messages\":[");
	for (size_t i = 0; i < tl->nmsgs; i++) {
		const struct tl_msg *m = &tl->msgs[i];
		buf_addf(b, "%s{\"t\":%llu,\"level\":\"%s\"", i ? "," : "", (unsigned long long)m->t_us,
			 levels[m->level]);
		key_str(b, "text", m->text);
		if (m->job != TL_NONE)
			buf_addf(b, ",\"job\":%zu", m->job);
		buf_adds(b, "}");
	}
	buf_adds(b, "]");
}

/* The run as the page's JSON: the run, its lanes, tasks, jobs, bars and
 * messages. */
static void add_model(struct buf *b, const struct timeline *tl)
{
	buf_adds(b, "{\"version\":");
	str(b, tl->version ? tl->version : WEFT_VERSION);
	buf_adds(b, ",\"argv\":[");
	for (size_t i = 0; tl->argv && tl->argv[i]; i++) {
		if (i)
			buf_adds(b, ",");
		str(b, tl->argv[i]);
	}
	buf_addf(b, "],\"slots\":%u,\"end\":%llu", tl->slots, (unsigned long long)tl->end_us);
	if (tl->ended)
		buf_addf(b, ",\"exit\":%d,\"signal\":%d", tl->exit_status, tl->signal);
	size_t *lane = lanes_of(tl, b);
	add_tasks(b, tl);
	add_jobs(b, tl);
	add_bars(b, tl, lane);
	add_messages(b, tl);
	buf_adds(b, "}");
	free(lane);
}

/* In JSON a '<' can only be in a string, where \u003c says the same: no
 * "</script>" in a name ends the page's script early. */
void report_write(struct buf *b, const struct timeline *tl)
{
	const char *mark = strstr(report_page, MODEL_MARK);
	if (!mark)
		abort();
	buf_add(b, report_page, (size_t)(mark - report_page));
	struct buf m;
	buf_init(&m);
	add_model(&m, tl);
	for (size_t i = 0, from = 0; i <= m.len; i++)
		if (i == m.len || m.p[i] == '<') {
			buf_add(b, m.p + from, i - from);
			if (i < m.len)
				buf_adds(b, "\\u003c");
			from = i + 1;
		}
	buf_release(&m);
	buf_adds(b, mark + strlen(MODEL_MARK));
}
