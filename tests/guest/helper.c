/*
 * vmet-helper: the test guest's own little tool, built static and run
 * inside the busybox initramfs.  Busybox cannot bind UDP or unix sockets,
 * cannot hold an established TCP connection between two processes, cannot
 * start threads or change credentials, so this program gives the guest a
 * known, varied set of processes and sockets for vmet to find from outside.
 *
 * Every long-lived mode ends in pause() so the process sits in S state and
 * its memory stays put.  When VMET_READY names a file, the mode creates it
 * once its sockets/threads exist, so /init knows when the scene is set.
 *
 * usage: vmet-helper [-n COMM] MODE ARGS...
 *   sleep [ANY...]                 just sleep (extra args only fill cmdline)
 *   listen SPEC...                 tcp:A:P tcp6:[A]:P udp:A:P udp6:[A]:P
 *                                  unix:PATH unixdg:PATH (@name = abstract)
 *   estab ADDR PORT                listener + accepted end here, client end
 *                                  in a forked child named COMM-cli
 *   udpconn SPEC RADDR RPORT       a connected UDP socket
 *   unixconn PATH                  unix listener plus a connected pair
 *   threads N                      N threads in all, extras named vmet-thr-K
 *   creds RUID EUID RGID EGID [CMD...]
 *                                  drop credentials, then exec CMD or sleep
 *   longargs BYTES                 re-exec itself with >= BYTES of argv
 *   zombie                         fork a child that exits, never reap it
 *   fds                            print "fd<TAB>PID<TAB>FD<TAB>TARGET" for
 *                                  every open fd of every process but this
 *                                  one (busybox has no readlink builtin, and
 *                                  its netstat no -p); then "exe", "cwd",
 *                                  "root<TAB>PID<TAB>TARGET" for each link
 *                                  that reads, and "environ<TAB>PID<TAB>HEX"
 *                                  (the file's bytes in hex, NULs included)
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

static const char *comm_name;

static void __attribute__((noreturn)) die(const char *what)
{
	fprintf(stderr, "vmet-helper[%d]: %s: %s\n", (int)getpid(), what,
		strerror(errno));
	exit(1);
}

static void __attribute__((noreturn)) dief(const char *msg, const char *arg)
{
	fprintf(stderr, "vmet-helper[%d]: %s: %s\n", (int)getpid(), msg, arg);
	exit(2);
}

static void set_comm(const char *name)
{
	if (name && prctl(PR_SET_NAME, name, 0, 0, 0) < 0)
		die("prctl(PR_SET_NAME)");
}

static void ready(void)
{
	const char *p = getenv("VMET_READY");
	int fd;

	if (!p || !*p)
		return;
	fd = open(p, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	if (fd < 0)
		die(p);
	dprintf(fd, "%d\n", (int)getpid());
	close(fd);
}

static void __attribute__((noreturn)) sleep_forever(void)
{
	for (;;)
		pause();
}

/* A parsed "ADDR:PORT" in either family; "[v6]:port" or "v4:port". */
struct addr {
	struct sockaddr_storage ss;
	socklen_t len;
	int family;
};

static void parse_ip(const char *host, const char *port, struct addr *a)
{
	struct sockaddr_in *in4 = (struct sockaddr_in *)&a->ss;
	struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&a->ss;
	char *end;
	long p = strtol(port, &end, 10);

	if (*port == '\0' || *end != '\0' || p < 0 || p > 65535)
		dief("bad port", port);
	memset(a, 0, sizeof(*a));
	if (inet_pton(AF_INET, host, &in4->sin_addr) == 1) {
		in4->sin_family = AF_INET;
		in4->sin_port = htons((unsigned short)p);
		a->len = sizeof(*in4);
	} else if (inet_pton(AF_INET6, host, &in6->sin6_addr) == 1) {
		in6->sin6_family = AF_INET6;
		in6->sin6_port = htons((unsigned short)p);
		a->len = sizeof(*in6);
	} else {
		dief("bad address", host);
	}
	a->family = a->ss.ss_family;
}

/* "[::1]:80" or "1.2.3.4:80" */
static void parse_hostport(const char *s, struct addr *a)
{
	char host[INET6_ADDRSTRLEN + 2];
	const char *colon;
	size_t n;

	if (s[0] == '[') {
		const char *rb = strchr(s, ']');
		if (!rb || rb[1] != ':')
			dief("bad [v6]:port", s);
		n = (size_t)(rb - s - 1);
		colon = rb + 1;
		s++;
	} else {
		colon = strrchr(s, ':');
		if (!colon)
			dief("missing :port", s);
		n = (size_t)(colon - s);
	}
	if (n >= sizeof(host))
		dief("address too long", s);
	memcpy(host, s, n);
	host[n] = '\0';
	parse_ip(host, colon + 1, a);
}

static int ip_socket(int family, int type)
{
	int fd = socket(family, type, 0), one = 1;

	if (fd < 0)
		die("socket");
	if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0)
		die("SO_REUSEADDR");
	/* Keep [::] listeners out of the IPv4 table so each test socket shows
	 * up in exactly one of /proc/net/{tcp,tcp6,udp,udp6}. */
	if (family == AF_INET6 &&
	    setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one)) < 0)
		die("IPV6_V6ONLY");
	return fd;
}

static socklen_t unix_addr(const char *path, struct sockaddr_un *un)
{
	size_t n = strlen(path);

	memset(un, 0, sizeof(*un));
	un->sun_family = AF_UNIX;
	if (n == 0 || n >= sizeof(un->sun_path))
		dief("bad unix path", path);
	memcpy(un->sun_path, path, n);
	if (path[0] == '@') /* abstract namespace, as /proc/net/unix shows it */
		un->sun_path[0] = '\0';
	else
		unlink(path);
	return (socklen_t)(offsetof(struct sockaddr_un, sun_path) + n);
}

static int open_spec(const char *spec)
{
	struct sockaddr_un un;
	struct addr a;
	const char *rest = strchr(spec, ':');
	size_t plen;
	int fd, type;

	if (!rest)
		dief("bad socket spec", spec);
	plen = (size_t)(rest - spec);
	rest++;
	if (!strncmp(spec, "unix", plen) || !strncmp(spec, "unixdg", plen)) {
		type = plen == 4 ? SOCK_STREAM : SOCK_DGRAM;
		fd = socket(AF_UNIX, type, 0);
		if (fd < 0)
			die("socket(AF_UNIX)");
		socklen_t len = unix_addr(rest, &un);
		if (bind(fd, (struct sockaddr *)&un, len) < 0)
			die(rest);
		if (type == SOCK_STREAM && listen(fd, 16) < 0)
			die("listen");
		return fd;
	}
	if ((plen == 3 && !strncmp(spec, "tcp", 3)) ||
	    (plen == 4 && !strncmp(spec, "tcp6", 4)))
		type = SOCK_STREAM;
	else if ((plen == 3 && !strncmp(spec, "udp", 3)) ||
		 (plen == 4 && !strncmp(spec, "udp6", 4)))
		type = SOCK_DGRAM;
	else
		dief("unknown protocol in spec", spec);
	parse_hostport(rest, &a);
	if ((plen == 4) != (a.family == AF_INET6))
		dief("address family does not match protocol", spec);
	fd = ip_socket(a.family, type);
	if (bind(fd, (struct sockaddr *)&a.ss, a.len) < 0)
		die(spec);
	if (type == SOCK_STREAM && listen(fd, 16) < 0)
		die("listen");
	return fd;
}

static int mode_listen(int argc, char **argv)
{
	if (argc < 1)
		dief("listen", "needs at least one SPEC");
	for (int i = 0; i < argc; i++)
		open_spec(argv[i]);
	ready();
	sleep_forever();
}

static int mode_estab(int argc, char **argv)
{
	struct addr a;
	int lfd, cfd, afd;
	pid_t child;

	if (argc != 2)
		dief("estab", "needs ADDR PORT");
	parse_ip(argv[0], argv[1], &a);
	lfd = ip_socket(a.family, SOCK_STREAM);
	if (bind(lfd, (struct sockaddr *)&a.ss, a.len) < 0)
		die("bind");
	if (listen(lfd, 4) < 0)
		die("listen");
	child = fork();
	if (child < 0)
		die("fork");
	if (child == 0) {
		char name[16];

		/* The two ends live in different processes so that socket
		 * ownership (fd -> inode) is tested both ways. */
		close(lfd);
		snprintf(name, sizeof(name), "%.11s-cli", comm_name ? comm_name : "estab");
		set_comm(name);
		cfd = socket(a.family, SOCK_STREAM, 0);
		if (cfd < 0)
			die("socket");
		if (connect(cfd, (struct sockaddr *)&a.ss, a.len) < 0)
			die("connect");
		sleep_forever();
	}
	afd = accept(lfd, NULL, NULL);
	if (afd < 0)
		die("accept");
	ready();
	sleep_forever();
}

static int mode_udpconn(int argc, char **argv)
{
	struct addr r;
	int fd;

	if (argc != 3)
		dief("udpconn", "needs SPEC RADDR RPORT");
	fd = open_spec(argv[0]);
	parse_ip(argv[1], argv[2], &r);
	if (connect(fd, (struct sockaddr *)&r.ss, r.len) < 0)
		die("connect");
	ready();
	sleep_forever();
}

static int mode_unixconn(int argc, char **argv)
{
	struct sockaddr_un un;
	socklen_t len;
	int lfd, cfd, afd;

	if (argc != 1)
		dief("unixconn", "needs PATH");
	lfd = socket(AF_UNIX, SOCK_STREAM, 0);
	if (lfd < 0)
		die("socket");
	len = unix_addr(argv[0], &un);
	if (bind(lfd, (struct sockaddr *)&un, len) < 0)
		die(argv[0]);
	if (listen(lfd, 4) < 0)
		die("listen");
	cfd = socket(AF_UNIX, SOCK_STREAM, 0);
	if (cfd < 0)
		die("socket");
	/* A backlog slot lets connect() finish before accept() runs. */
	if (connect(cfd, (struct sockaddr *)&un, len) < 0)
		die("connect");
	afd = accept(lfd, NULL, NULL);
	if (afd < 0)
		die("accept");
	ready();
	sleep_forever();
}

static void *thread_main(void *arg)
{
	char name[16];

	snprintf(name, sizeof(name), "vmet-thr-%d", (int)(long)arg);
	set_comm(name);
	sleep_forever();
	return NULL;
}

static int mode_threads(int argc, char **argv)
{
	int n = argc == 1 ? atoi(argv[0]) : 0;

	if (n < 1 || n > 64)
		dief("threads", "needs N in 1..64");
	for (long i = 1; i < n; i++) {
		pthread_t t;
		if (pthread_create(&t, NULL, thread_main, (void *)i) != 0)
			die("pthread_create");
	}
	/* Let the threads name themselves before anyone looks. */
	usleep(100000);
	ready();
	sleep_forever();
}

static unsigned parse_id(const char *s)
{
	char *end;
	unsigned long v = strtoul(s, &end, 10);

	if (*s == '\0' || *end != '\0' || v > 0xfffffffeUL)
		dief("bad id", s);
	return (unsigned)v;
}

static int mode_creds(int argc, char **argv)
{
	unsigned ruid, euid, rgid, egid;

	if (argc < 4)
		dief("creds", "needs RUID EUID RGID EGID [CMD...]");
	ruid = parse_id(argv[0]);
	euid = parse_id(argv[1]);
	rgid = parse_id(argv[2]);
	egid = parse_id(argv[3]);
	/* Groups first: once the uid is gone we may no longer change them. */
	if (setgroups(0, NULL) < 0)
		die("setgroups");
	if (setresgid(rgid, egid, egid) < 0)
		die("setresgid");
	if (setresuid(ruid, euid, euid) < 0)
		die("setresuid");
	if (argc > 4) {
		execv(argv[4], argv + 4);
		die(argv[4]);
	}
	ready();
	sleep_forever();
}

static int __attribute__((noreturn)) mode_longargs(int argc, char **argv)
{
	long want = argc == 1 ? atol(argv[0]) : 0;
	enum { ARGLEN = 63 };
	long nargs, i;
	char **av;

	if (want < 1 || want > 1000000)
		dief("longargs", "needs BYTES in 1..1000000");
	nargs = (want + ARGLEN) / (ARGLEN + 1) + 1;
	av = calloc((size_t)nargs + 6, sizeof(*av));
	if (!av)
		die("calloc");
	av[0] = "/bin/vmet-helper";
	av[1] = "-n";
	av[2] = "vmet-longargs";
	av[3] = "sleep";
	/* Deterministic, numbered arguments: a reader that drops or repeats a
	 * page of the argument area shows up in the comparison. */
	for (i = 0; i < nargs; i++) {
		char *s = malloc(ARGLEN + 1);
		if (!s)
			die("malloc");
		memset(s, 'a' + (int)(i % 26), ARGLEN);
		s[ARGLEN] = '\0';
		s[0] = 'L';
		s[1] = (char)('0' + i / 1000 % 10);
		s[2] = (char)('0' + i / 100 % 10);
		s[3] = (char)('0' + i / 10 % 10);
		s[4] = (char)('0' + i % 10);
		s[5] = '-';
		av[4 + i] = s;
	}
	av[4 + nargs] = NULL;
	execv("/proc/self/exe", av);
	die("execv /proc/self/exe");
}

static int mode_zombie(void)
{
	pid_t c = fork();

	if (c < 0)
		die("fork");
	if (c == 0) {
		set_comm("vmet-zombie");
		_exit(0);
	}
	/* Wait until the child is really a zombie, without reaping it. */
	siginfo_t si;
	if (waitid(P_PID, (id_t)c, &si, WEXITED | WNOWAIT) < 0)
		die("waitid");
	ready();
	sleep_forever();
}

static int numeric(const char *s)
{
	if (!*s)
		return 0;
	for (; *s; s++)
		if (*s < '0' || *s > '9')
			return 0;
	return 1;
}

/* The links and the environment of process `pid` (a /proc name). */
static void proc_links(const char *pid)
{
	static const char *const links[] = { "exe", "cwd", "root" };
	char path[600], target[4096];
	unsigned char buf[4096];
	ssize_t n;
	int fd;

	for (size_t i = 0; i < sizeof(links) / sizeof(links[0]); i++) {
		snprintf(path, sizeof(path), "/proc/%s/%s", pid, links[i]);
		n = readlink(path, target, sizeof(target) - 1);
		if (n < 0)
			continue; /* a kernel thread's exe, a zombie's */
		target[n] = '\0';
		printf("%s\t%s\t%s\n", links[i], pid, target);
	}
	snprintf(path, sizeof(path), "/proc/%s/environ", pid);
	fd = open(path, O_RDONLY);
	if (fd < 0)
		return;
	printf("environ\t%s\t", pid);
	while ((n = read(fd, buf, sizeof(buf))) > 0)
		for (ssize_t i = 0; i < n; i++)
			printf("%02x", buf[i]);
	printf("\n");
	close(fd);
}

static int mode_fds(void)
{
	char self[32], path[600], target[4096];
	struct dirent *p, *f;
	DIR *proc, *fdd;
	ssize_t n;

	snprintf(self, sizeof(self), "%d", (int)getpid());
	proc = opendir("/proc");
	if (!proc)
		die("/proc");
	while ((p = readdir(proc)) != NULL) {
		if (!numeric(p->d_name) || !strcmp(p->d_name, self))
			continue;
		proc_links(p->d_name);
		snprintf(path, sizeof(path), "/proc/%s/fd", p->d_name);
		fdd = opendir(path);
		if (!fdd)
			continue; /* gone, or a kernel thread's empty table */
		while ((f = readdir(fdd)) != NULL) {
			if (!numeric(f->d_name))
				continue;
			snprintf(path, sizeof(path), "/proc/%s/fd/%s", p->d_name,
				 f->d_name);
			n = readlink(path, target, sizeof(target) - 1);
			if (n < 0)
				continue;
			target[n] = '\0';
			printf("fd\t%s\t%s\t%s\n", p->d_name, f->d_name, target);
		}
		closedir(fdd);
	}
	closedir(proc);
	return fflush(stdout) == 0 ? 0 : 1;
}

int main(int argc, char **argv)
{
	const char *mode;

	argv++, argc--;
	if (argc >= 2 && !strcmp(argv[0], "-n")) {
		comm_name = argv[1];
		argv += 2, argc -= 2;
	}
	if (argc < 1)
		dief("usage", "vmet-helper [-n COMM] MODE ARGS...");
	mode = argv[0];
	argv++, argc--;
	set_comm(comm_name);

	if (!strcmp(mode, "sleep")) {
		ready();
		sleep_forever();
	}
	if (!strcmp(mode, "listen"))
		return mode_listen(argc, argv);
	if (!strcmp(mode, "estab"))
		return mode_estab(argc, argv);
	if (!strcmp(mode, "udpconn"))
		return mode_udpconn(argc, argv);
	if (!strcmp(mode, "unixconn"))
		return mode_unixconn(argc, argv);
	if (!strcmp(mode, "threads"))
		return mode_threads(argc, argv);
	if (!strcmp(mode, "creds"))
		return mode_creds(argc, argv);
	if (!strcmp(mode, "longargs"))
		return mode_longargs(argc, argv);
	if (!strcmp(mode, "zombie"))
		return mode_zombie();
	if (!strcmp(mode, "fds"))
		return mode_fds();
	dief("unknown mode", mode);
}
