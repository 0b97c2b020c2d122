// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Paths of files and directories, resolved the way the kernel's d_path()
 * does (fs/d_path.c, __prepend_path): from a dentry up its d_parent chain
 * to the root of its mount, then from that mount's mountpoint in the
 * parent mount, until the top of the mount tree.  This is what
 * /proc/PID/exe, cwd and root show.
 *
 * Every pointer and name comes from guest memory.  The walk is bounded by
 * the path's length (each step that does not cross a mount adds at least
 * two bytes, so a cycle of dentries ends at LINUX_PATH_MAX) and by a cap on
 * mount crossings (which add none).  Names must look like names: 1 to
 * NAME_MAX bytes, no '/' and no NUL.  Anything else is an error, so that a
 * path is either the guest's or absent.
 */
#include "os/linux/linux.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

/* Prepend len bytes before out[*pos]; false when they do not fit. */
static bool prepend(char *out, size_t *pos, const char *s, size_t len)
{
	if (len > *pos)
		return false;
	*pos -= len;
	memcpy(out + *pos, s, len);
	return true;
}

int linux_d_path(struct linux_kernel *k, uint64_t vfsmount, uint64_t dentry, char *out,
		 struct vmet_err *err)
{
	const struct linux_offsets *o = &k->off;
	const char deleted[] = " (deleted)";
	/* Built backwards from the end; room kept for " (deleted)" and the NUL. */
	char buf[LINUX_PATH_MAX + sizeof(deleted)];
	size_t end = LINUX_PATH_MAX - 1, pos = end;
	uint64_t mnt, root, parent, pprev, nameptr, start = dentry;
	unsigned hops = 0;
	bool unlinked;
	uint32_t len;
	char name[LINUX_NAME_MAX];
	int rc;

	if (!o->have_paths)
		return vmet_errf(err, VMET_EUNSUPPORTED, "the profile has no dentry/mount layout");
	if (!linux_kaddr_ok(k, vfsmount) || !linux_kaddr_ok(k, dentry) ||
	    vfsmount < o->mount_mnt)
		return vmet_errf(err, VMET_ENONCANON, "path {mnt 0x%" PRIx64 ", dentry 0x%" PRIx64
				 "}: not kernel addresses", vfsmount, dentry);
	mnt = vfsmount - o->mount_mnt;	/* real_mount(): the vfsmount sits in a struct mount */
	/* d_unlinked(): unhashed (d_hash.pprev NULL) and not a root (d_parent == itself). */
	if ((rc = linux_read_ptr(k, dentry + o->dentry_hash_pprev, &pprev, true, "dentry->d_hash",
				 err)) ||
	    (rc = linux_read_ptr(k, dentry + o->dentry_parent, &parent, false, "dentry->d_parent",
				 err)))
		return rc;
	unlinked = !pprev && parent != dentry;
	for (;;) {
		if ((rc = linux_read_ptr(k, mnt + o->mount_mnt + o->vfsmount_root, &root, false,
					 "vfsmount->mnt_root", err)))
			return rc;
		if (dentry == root) {
			uint64_t up;

			if ((rc = linux_read_ptr(k, mnt + o->mount_parent, &up, false,
						 "mount->mnt_parent", err)))
				return rc;
			if (up == mnt)
				break;	/* the top of the tree (or an internal mount) */
			if (++hops > LINUX_MAX_MOUNT_HOPS)
				return vmet_errf(err, VMET_ELIMIT, "path of dentry 0x%" PRIx64
						 ": more than %d mount crossings", start,
						 LINUX_MAX_MOUNT_HOPS);
			if ((rc = linux_read_ptr(k, mnt + o->mount_mountpoint, &dentry, false,
						 "mount->mnt_mountpoint", err)))
				return rc;
			mnt = up;
			continue;
		}
		if ((rc = linux_read_ptr(k, dentry + o->dentry_parent, &parent, false,
					 "dentry->d_parent", err)))
			return rc;
		if (parent == dentry) {
			/* Outside its mount's tree: the kernel gives "/" (error 3 in
			 * prepend_path) rather than the names it had. */
			pos = end;
			break;
		}
		if ((rc = linux_read_u32(k, dentry + o->dentry_name + o->qstr_len, &len,
					 "dentry->d_name.len", err)) ||
		    (rc = linux_read_ptr(k, dentry + o->dentry_name + o->qstr_name, &nameptr, false,
					 "dentry->d_name.name", err)))
			return rc;
		if (len == 0 || len > LINUX_NAME_MAX)
			return vmet_errf(err, VMET_EFORMAT, "dentry 0x%" PRIx64 ": name length %" PRIu32
					 " (1..%d)", dentry, len, LINUX_NAME_MAX);
		if ((rc = linux_read(k, nameptr, name, len, "dentry name", err)))
			return rc;
		if (memchr(name, '/', len) || memchr(name, '\0', len))
			return vmet_errf(err, VMET_EFORMAT, "dentry 0x%" PRIx64
					 ": name holds '/' or NUL", dentry);
		if (!prepend(buf, &pos, name, len) || !prepend(buf, &pos, "/", 1))
			return vmet_errf(err, VMET_ELIMIT, "path of dentry 0x%" PRIx64
					 ": longer than %d bytes (or a cycle)", start,
					 LINUX_PATH_MAX - 1);
		dentry = parent;
	}
	if (pos == end)
		prepend(buf, &pos, "/", 1);
	buf[end] = '\0';
	if (unlinked) {
		if (end - pos + sizeof(deleted) > LINUX_PATH_MAX)
			return vmet_errf(err, VMET_ELIMIT, "path of dentry 0x%" PRIx64
					 ": longer than %d bytes", start, LINUX_PATH_MAX - 1);
		memcpy(buf + end, deleted, sizeof(deleted));
	}
	memcpy(out, buf + pos, strlen(buf + pos) + 1);
	return 0;
}

/* Resolve the struct path at `at` into a malloc'd string in *out. */
static int path_at(struct linux_kernel *k, uint64_t at, const char *what, char **out,
		   struct vmet_err *err)
{
	const struct linux_offsets *o = &k->off;
	uint64_t mnt, dentry;
	char buf[LINUX_PATH_MAX];
	int rc;

	if ((rc = linux_read_ptr(k, at + o->path_mnt, &mnt, false, what, err)) ||
	    (rc = linux_read_ptr(k, at + o->path_dentry, &dentry, false, what, err)) ||
	    (rc = linux_d_path(k, mnt, dentry, buf, err)))
		return rc;
	*out = strdup(buf);
	return *out ? 0 : vmet_errf(err, VMET_ENOMEM, "out of memory");
}

void linux_task_paths(struct linux_kernel *k, struct linux_task *t, bool fs,
		      struct linux_report *rep)
{
	const struct linux_offsets *o = &k->off;
	struct vmet_err err = { 0 };
	uint64_t file;

	free(t->exe);
	free(t->cwd);
	free(t->root);
	t->exe = t->cwd = t->root = NULL;
	if (!o->have_paths)
		return;
	/* A kernel thread may borrow an mm (use_mm) but has no exe. */
	if (t->mm && !t->kthread) {
		if (linux_read_ptr(k, t->mm + o->mm_exe_file, &file, true, "mm->exe_file", &err) ||
		    (file && path_at(k, file + o->file_f_path, "exe_file->f_path", &t->exe, &err))) {
			linux_report_err(rep, &err, "PID %d: exe", t->pid);
			t->incomplete = true;
		}
	}
	/* Kernel threads share init_fs (cwd and root "/"); a zombie has no fs. */
	if (fs && t->fs) {
		if (path_at(k, t->fs + o->fs_pwd, "fs->pwd", &t->cwd, &err)) {
			linux_report_err(rep, &err, "PID %d: cwd", t->pid);
			t->incomplete = true;
		}
		if (path_at(k, t->fs + o->fs_root, "fs->root", &t->root, &err)) {
			linux_report_err(rep, &err, "PID %d: root", t->pid);
			t->incomplete = true;
		}
	}
}
