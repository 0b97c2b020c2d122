// SPDX-License-Identifier: GPL-2.0-or-later
#include "core/guests.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* One guest's structures share this: the stage-2 table address (EPTP/nCR3
 * flag bits ignored), or a PV root's kernel half; a shadow-paged guest's
 * structures share nothing we can see. */
static bool grouped(const struct vmctl *v)
{
	return v->s2_type != STAGE2_NONE || v->kind == VMCTL_XEN_PV;
}

static uint64_t key(const struct vmctl *v)
{
	return grouped(v) ? (v->s2_root & 0x000ffffffffff000ull) : v->pa;
}

static int by_key_then_pa(const void *a, const void *b)
{
	const struct vmctl *x = a, *y = b;

	if (x->kind != y->kind)
		return x->kind < y->kind ? -1 : 1;
	if (x->s2_type != y->s2_type)
		return x->s2_type < y->s2_type ? -1 : 1;
	if (key(x) != key(y))
		return key(x) < key(y) ? -1 : 1;
	return x->pa < y->pa ? -1 : x->pa > y->pa;
}

static int by_first_pa(const void *a, const void *b)
{
	const struct guest *x = a, *y = b;

	return x->vcpu[0].pa < y->vcpu[0].pa ? -1 : x->vcpu[0].pa > y->vcpu[0].pa;
}

int guests_group(struct guest_list *out, struct vmet_err *err)
{
	free(out->g);
	out->g = NULL;
	out->n = 0;
	if (!out->nall)
		return 0;
	qsort(out->all, out->nall, sizeof(*out->all), by_key_then_pa);
	out->g = calloc(out->nall, sizeof(*out->g));
	if (!out->g) {
		guest_list_free(out);
		return vmet_errf(err, VMET_ENOMEM, "out of memory");
	}
	for (size_t i = 0; i < out->nall; i++) {
		struct guest *g = out->n ? &out->g[out->n - 1] : NULL;
		const struct vmctl *v = &out->all[i];

		if (g && g->kind == v->kind && g->s2_type == v->s2_type && grouped(v) &&
		    key(&g->vcpu[0]) == key(v)) {
			g->nvcpu++;
			continue;
		}
		g = &out->g[out->n++];
		g->kind = v->kind;
		g->s2_type = v->s2_type;
		g->s2_root = v->s2_root;
		g->s2_mode = v->s2_mode;
		g->vcpu = &out->all[i];
		g->nvcpu = 1;
	}
	/* vcpu pointers stay valid: `all` is not moved after grouping. */
	qsort(out->g, out->n, sizeof(*out->g), by_first_pa);
	for (size_t i = 0; i < out->n; i++)
		out->g[i].number = (unsigned)i + 1;
	return 0;
}

int guests_discover(struct phys_source *src, struct guest_list *out,
		    scan_progress_fn progress, void *ctx, struct vmet_err *err)
{
	struct vmet_err scan_err = { 0 };
	int rc;

	memset(out, 0, sizeof(*out));
	rc = vmctl_scan(src, &out->all, &out->nall, GUESTS_MAX_CTL, progress, ctx, &scan_err);
	if (rc == VMET_ELIMIT)
		out->truncated = true;
	else if (rc) {
		if (err)
			*err = scan_err;
		return rc;
	}
	return guests_group(out, err);
}

void guest_list_free(struct guest_list *l)
{
	free(l->g);
	free(l->all);
	memset(l, 0, sizeof(*l));
}

int guest_path_parse(const char *s, unsigned *path, int max)
{
	int depth = 0;

	while (*s) {
		char *end;
		unsigned long v;

		if (depth == max || *s < '1' || *s > '9')
			return -1;
		errno = 0;
		v = strtoul(s, &end, 10);
		if (errno || v > 65535)
			return -1;
		path[depth++] = (unsigned)v;
		if (*end == '/' && end[1])
			end++;
		else if (*end)
			return -1;
		s = end;
	}
	return depth ? depth : -1;
}
