/* A pool of worker threads for CPU-heavy work, whose results come back to the loop thread as messages. */
#include "pool.h"

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>

#include "util.h"

/*
 * Why weft's own threads and not uv_queue_work(): libuv's threadpool is
 * process-wide and shared with every uv_fs_* request; its size is read once
 * from UV_THREADPOOL_SIZE (an environment variable that would then leak into
 * every job) and cannot follow -j. A hash of a large file holds a thread for
 * seconds, so -j such steps on a 4-thread libuv pool would stall weft's own
 * file I/O behind them (libuv #660, #2618). These threads are ours alone,
 * as many as -j at most, started only when work needs them.
 *
 * Completions come back through one uv_async_t. uv_async_send() coalesces
 * wake-ups, so each callback drains the whole locked queue.
 */

struct pool {
	uv_loop_t *loop;
	uv_async_t async;
	uv_mutex_t lock;
	uv_cond_t cond;            /* signalled: work queued, or stop */
	/* Under lock: */
	struct pool_work *todo, *todo_tail;
	size_t ntodo;
	struct pool_msg *done, *done_tail;
	unsigned idle;             /* threads waiting for work */
	bool stop;                 /* threads end when they see it */
	/* Loop thread only: */
	uv_thread_t *threads;
	unsigned nthreads, max_threads;
	size_t outstanding;        /* submitted, after() not yet called */
	bool in_cb;                /* inside async_cb */
	bool closing;
	bool finished;             /* the threads are gone, the handle closing */
	void (*closed)(struct pool *p);
};

static void worker_main(void *arg)
{
	struct pool *p = arg;

	/* Signals belong to the loop thread (libuv's signal pipe); a worker
	 * that took one would only delay it. */
	sigset_t all;
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, NULL);

	uv_mutex_lock(&p->lock);
	for (;;) {
		while (!p->todo && !p->stop) {
			p->idle++;
			uv_cond_wait(&p->cond, &p->lock);
			p->idle--;
		}
		if (!p->todo)
			break;
		struct pool_work *w = p->todo;
		p->todo = w->next;
		if (!p->todo)
			p->todo_tail = NULL;
		p->ntodo--;
		uv_mutex_unlock(&p->lock);

		w->work(w);
		pool_post(p, &w->done);

		uv_mutex_lock(&p->lock);
	}
	uv_mutex_unlock(&p->lock);
}

static void close_cb(uv_handle_t *h)
{
	struct pool *p = h->data;
	uv_cond_destroy(&p->cond);
	uv_mutex_destroy(&p->lock);
	free(p->threads);
	if (p->closed)
		p->closed(p);
	free(p);
}

/* Ends the threads once nothing is outstanding. They are idle then, so the
 * joins return at once. */
static void maybe_finish(struct pool *p)
{
	if (!p->closing || p->finished || p->outstanding || p->in_cb)
		return;
	p->finished = true;
	uv_mutex_lock(&p->lock);
	p->stop = true;
	uv_cond_broadcast(&p->cond);
	uv_mutex_unlock(&p->lock);
	for (unsigned i = 0; i < p->nthreads; i++)
		uv_thread_join(&p->threads[i]);
	uv_close((uv_handle_t *)&p->async, close_cb);
}

static void async_cb(uv_async_t *h)
{
	struct pool *p = h->data;

	uv_mutex_lock(&p->lock);
	struct pool_msg *m = p->done;
	p->done = p->done_tail = NULL;
	uv_mutex_unlock(&p->lock);

	p->in_cb = true;
	while (m) {
		struct pool_msg *next = m->next;
		m->deliver(m);
		m = next;
	}
	p->in_cb = false;
	maybe_finish(p);
}

static void work_done(struct pool_msg *m)
{
	struct pool_work *w = (struct pool_work *)((char *)m - offsetof(struct pool_work, done));
	struct pool *p = w->pool;
	if (--p->outstanding == 0)
		uv_unref((uv_handle_t *)&p->async);
	w->after(w);
}

int pool_new(uv_loop_t *loop, unsigned nthreads, struct pool **out)
{
	struct pool *p = xcalloc(1, sizeof *p);
	p->loop = loop;
	p->max_threads = nthreads ? nthreads : 1;
	p->threads = xcalloc(p->max_threads, sizeof *p->threads);
	int r = uv_async_init(loop, &p->async, async_cb);
	if (r < 0) {
		free(p->threads);
		free(p);
		return r;
	}
	p->async.data = p;
	uv_unref((uv_handle_t *)&p->async);
	if (uv_mutex_init(&p->lock) || uv_cond_init(&p->cond))
		abort();
	*out = p;
	return 0;
}

int pool_submit(struct pool *p, struct pool_work *w)
{
	if (p->closing)
		abort();
	w->pool = p;
	w->next = NULL;
	w->done.deliver = work_done;
	w->done.next = NULL;

	uv_mutex_lock(&p->lock);
	/* A new thread only when the queued work outnumbers the idle threads:
	 * an idle thread that has been signalled has not yet taken its item. */
	if (p->ntodo + 1 > p->idle && p->nthreads < p->max_threads) {
		int r = uv_thread_create(&p->threads[p->nthreads], worker_main, p);
		if (r == 0)
			p->nthreads++;
		else if (p->nthreads == 0) {
			uv_mutex_unlock(&p->lock);
			return r;
		}
		/* Otherwise the threads there are will get to it. */
	}
	if (p->todo_tail)
		p->todo_tail->next = w;
	else
		p->todo = w;
	p->todo_tail = w;
	p->ntodo++;
	uv_cond_signal(&p->cond);
	uv_mutex_unlock(&p->lock);

	if (p->outstanding++ == 0)
		uv_ref((uv_handle_t *)&p->async);
	return 0;
}

void pool_post(struct pool *p, struct pool_msg *m)
{
	m->next = NULL;
	uv_mutex_lock(&p->lock);
	if (p->done_tail)
		p->done_tail->next = m;
	else
		p->done = m;
	p->done_tail = m;
	uv_mutex_unlock(&p->lock);
	uv_async_send(&p->async);
}

void pool_close(struct pool *p, void (*closed)(struct pool *p))
{
	if (p->closing)
		abort();
	p->closing = true;
	p->closed = closed;
	maybe_finish(p);
}
