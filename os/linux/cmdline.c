// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * A process's command line, read the way /proc/PID/cmdline does but through
 * the process's own page tables (mm->pgd), stacked on the same stage 2 as
 * the kernel's space, so nested guests work unchanged.
 */
#include "os/linux/linux.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

/* setproctitle() overwrites argv in place: the kernel then reads one page. */
#define PROCTITLE_MAX 4096

static struct aspace *user_space(struct linux_kernel *k, uint64_t cr3, struct vmet_err *err)
{
	if (!k->user_as) {
		k->user_as = aspace_x86_new(k->lower, k->mode, cr3, 0, err);
		if (!k->user_as)
			return NULL;
		/* One process's argv is a page or two: a small cache is plenty. */
		aspace_set_cache_bits(k->user_as, TLB_SMALL_BITS);
		k->user_as->stage = k->kas->stage;
	}
	/* Re-root the one space instead of building one per process; only its
	 * own cache is stale, the stage-2 cache below stays valid. */
	k->user_as->root = cr3;
	tlb_flush(&k->user_as->tlb);
	return k->user_as;
}

int linux_task_cmdline(struct linux_kernel *k, struct linux_task *t, struct vmet_err *err)
{
	const struct linux_offsets *o = &k->off;
	uint64_t se[2];
	struct aspace *as;
	size_t len, cap = k->max_cmdline;
	char *buf;
	int rc;

	free(t->cmdline);
	t->cmdline = NULL;
	t->cmdline_len = 0;
	t->cmdline_truncated = false;
	if (!t->mm || !t->cr3)
		return 0;
	rc = linux_read(k, t->mm + o->mm_arg_start, &se[0], 8, "mm->arg_start", err);
	if (!rc)
		rc = linux_read(k, t->mm + o->mm_arg_end, &se[1], 8, "mm->arg_end", err);
	if (rc)
		return rc;
	if (se[1] <= se[0])
		return 0;	/* exec not finished, or exiting: empty, as in /proc */
	if (se[1] - se[0] > cap) {
		len = cap;
		t->cmdline_truncated = true;
	} else {
		len = (size_t)(se[1] - se[0]);
	}
	if (len < PROCTITLE_MAX && cap >= PROCTITLE_MAX)
		cap = PROCTITLE_MAX;	/* room for the setproctitle case below */
	else
		cap = len;
	as = user_space(k, t->cr3, err);
	if (!as)
		return err ? err->code : VMET_ENOMEM;
	buf = malloc(cap + 1);
	if (!buf)
		return vmet_errf(err, VMET_ENOMEM, "out of memory");
	rc = aspace_read(as, se[0], buf, len, err);
	if (rc) {
		free(buf);
		return vmet_err_prefix(err, rc, "argv 0x%" PRIx64 "-0x%" PRIx64 " through CR3 0x%" PRIx64,
				       se[0], se[1], t->cr3);
	}
	if (!t->cmdline_truncated && buf[len - 1] != '\0') {
		/* argv's last byte overwritten: the title runs to the first NUL
		 * (possibly past arg_end), at most a page, as the kernel shows it. */
		size_t more = cap - len, got = len;

		if (more && !aspace_read(as, se[1], buf + len, more, NULL))
			got = cap;
		buf[got] = '\0';
		len = strnlen(buf, got);
	} else {
		buf[len] = '\0';
		/* Separators become spaces (unless asked to keep them); the
		 * terminating NULs go. */
		while (len && buf[len - 1] == '\0')
			len--;
		for (size_t i = 0; i < len && !k->cmdline_keep_nul; i++)
			if (buf[i] == '\0')
				buf[i] = ' ';
	}
	buf[len] = '\0';
	t->cmdline = buf;
	t->cmdline_len = len;
	return 0;
}

/*
 * fs/proc/base.c environ_read(): the bytes of [env_start, env_end) as they
 * are, NULs included; no setproctitle case (the kernel has none for the
 * environment).
 */
int linux_task_environ(struct linux_kernel *k, struct linux_task *t, struct vmet_err *err)
{
	const struct linux_offsets *o = &k->off;
	uint64_t se[2];
	struct aspace *as;
	size_t len;
	char *buf;
	int rc;

	free(t->environ);
	t->environ = NULL;
	t->environ_len = 0;
	t->environ_truncated = false;
	if (!o->have_environ || !t->mm || !t->cr3)
		return 0;
	rc = linux_read(k, t->mm + o->mm_env_start, &se[0], 8, "mm->env_start", err);
	if (!rc)
		rc = linux_read(k, t->mm + o->mm_env_end, &se[1], 8, "mm->env_end", err);
	if (rc)
		return rc;
	if (se[1] <= se[0])
		return 0;	/* exec not finished, or exiting: empty, as in /proc */
	len = se[1] - se[0] > k->max_environ ? k->max_environ : (size_t)(se[1] - se[0]);
	t->environ_truncated = len < se[1] - se[0];
	as = user_space(k, t->cr3, err);
	if (!as)
		return err ? err->code : VMET_ENOMEM;
	buf = malloc(len + 1);
	if (!buf)
		return vmet_errf(err, VMET_ENOMEM, "out of memory");
	rc = aspace_read(as, se[0], buf, len, err);
	if (rc) {
		free(buf);
		return vmet_err_prefix(err, rc, "environment 0x%" PRIx64 "-0x%" PRIx64
				       " through CR3 0x%" PRIx64, se[0], se[1], t->cr3);
	}
	buf[len] = '\0';
	t->environ = buf;
	t->environ_len = len;
	return 0;
}
