/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Internal to os/linux: the set of sockets being collected, indexed by sock
 * address so that a socket met through an fd table and again in a hash
 * table is one entry.
 */
#ifndef VMET_OS_LINUX_SOCKSET_H
#define VMET_OS_LINUX_SOCKSET_H

#include "os/linux/linux.h"

struct sockset {
	struct linux_sock_list *l;
	size_t *idx;		/* open addressing: index+1 into l->s, 0 empty */
	unsigned bits;
	size_t max;		/* sockets kept at most (k->max_sockets) */
	bool full;		/* max reached (reported) */
};

int sockset_init(struct sockset *set, struct linux_sock_list *l, size_t max);
void sockset_free(struct sockset *set);
/*
 * The entry for sk, created zeroed (with sk set) when new; NULL when full
 * (set->max) or out of memory, which is reported and marks the list
 * incomplete.
 */
struct linux_sock *sockset_get(struct sockset *set, uint64_t sk, bool *created,
			       struct linux_report *rep);

/* A unix socket's bound name into s->path (socket.c). */
void linux_unix_path(struct linux_kernel *k, struct linux_sock *s, struct linux_report *rep);

/* Add what tcp_hashinfo and udp_table hold (sockhash.c). */
void linux_sock_hashes(struct linux_kernel *k, struct sockset *set, struct linux_report *rep);
/* Add every namespace's unix hash table (sockhash.c). */
void linux_unix_hashes(struct linux_kernel *k, struct sockset *set, struct linux_report *rep);

#endif
