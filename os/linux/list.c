// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Bounded, cycle-safe walks of kernel lists.  A hostile guest can point a
 * list anywhere: back into itself without passing the anchor, out of
 * memory, or on forever.  Brent's cycle detection costs one compare per
 * node and no memory, so it runs on every walk.
 */
#include "os/linux/linux.h"

#include <inttypes.h>

void linux_list_init(struct linux_list_walk *w, uint64_t head, size_t max,
		     bool check_back)
{
	w->head = head;
	w->cur = head;
	w->tortoise = head;
	w->power = 1;
	w->lam = 0;
	w->count = 0;
	w->max = max;
	w->check_back = check_back;
	w->backward = false;
}

int linux_list_next(struct linux_kernel *k, struct linux_list_walk *w,
		    uint64_t *node, struct vmet_err *err)
{
	unsigned fwd = w->backward ? 1 : 0, back = 1 - fwd;
	uint64_t next, lh[2];
	int rc;

	rc = linux_read_ptr(k, w->cur + 8 * fwd, &next, false,
			    w->backward ? "list prev pointer" : "list next pointer", err);
	if (rc)
		return rc;
	if (next == w->head)
		return 0;
	rc = linux_read(k, next, lh, sizeof(lh), "list node", err);
	if (rc)
		return rc;
	if (w->check_back && lh[back] != w->cur)
		return vmet_errf(err, VMET_EFORMAT, "list node 0x%" PRIx64 " (after 0x%" PRIx64
				 ") links back to 0x%" PRIx64 ": broken list", next, w->cur, lh[back]);
	if (++w->count > w->max)
		return vmet_errf(err, VMET_ELIMIT, "list at 0x%" PRIx64 " has more than %zu nodes",
				 w->head, w->max);
	if (next == w->tortoise)
		return vmet_errf(err, VMET_ELOOP, "list at 0x%" PRIx64 " loops at node 0x%" PRIx64
				 " without returning to its head", w->head, next);
	if (++w->lam == w->power) {
		w->tortoise = next;
		w->power *= 2;
		w->lam = 0;
	}
	w->cur = next;
	*node = next;
	return 1;
}

void linux_chain_init(struct linux_chain_guard *g, size_t max)
{
	g->tortoise = 0;
	g->power = 1;
	g->lam = 0;
	g->count = 0;
	g->max = max;
}

int linux_chain_step(struct linux_chain_guard *g, uint64_t node, struct vmet_err *err)
{
	if (++g->count > g->max)
		return vmet_errf(err, VMET_ELIMIT, "hash chain longer than %zu nodes (at 0x%" PRIx64 ")",
				 g->max, node);
	if (node == g->tortoise)
		return vmet_errf(err, VMET_ELOOP, "hash chain loops at node 0x%" PRIx64, node);
	if (++g->lam == g->power || !g->tortoise) {
		g->tortoise = node;
		g->power *= 2;
		g->lam = 0;
	}
	return 0;
}
