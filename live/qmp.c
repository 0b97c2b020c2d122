// SPDX-License-Identifier: GPL-2.0-or-later
#include "live/qmp.h"

#include <errno.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

/* `info mtree -f` on a big machine runs to a few hundred KiB. */
#define QMP_LINE_MAX (8u << 20)

struct qmp {
	int fd;
	int timeout_ms;
	char *buf;		/* bytes received, not yet consumed */
	size_t len, cap;
};

static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000LL + ts.tv_nsec / 1000000;
}

/* Read one line (without the newline) into a malloc'd string. */
static int read_line(struct qmp *q, char **line, struct vmet_err *err)
{
	long long deadline = now_ms() + q->timeout_ms;

	for (;;) {
		char *nl = q->len ? memchr(q->buf, '\n', q->len) : NULL;

		if (nl) {
			size_t n = (size_t)(nl - q->buf);

			*line = malloc(n + 1);
			if (!*line)
				return vmet_errf(err, VMET_ENOMEM, "out of memory");
			memcpy(*line, q->buf, n);
			(*line)[n] = '\0';
			if (n && (*line)[n - 1] == '\r')
				(*line)[n - 1] = '\0';
			memmove(q->buf, nl + 1, q->len - n - 1);
			q->len -= n + 1;
			return 0;
		}
		if (q->len >= QMP_LINE_MAX)
			return vmet_errf(err, VMET_ELIMIT, "QMP: a reply line exceeds %u bytes", QMP_LINE_MAX);
		if (q->cap - q->len < 65536) {
			size_t cap = q->cap ? q->cap * 2 : 131072;
			char *nb = realloc(q->buf, cap);

			if (!nb)
				return vmet_errf(err, VMET_ENOMEM, "out of memory");
			q->buf = nb;
			q->cap = cap;
		}
		{
			long long left = deadline - now_ms();
			struct pollfd p = { .fd = q->fd, .events = POLLIN };
			ssize_t r;

			if (left <= 0)
				return vmet_errf(err, VMET_EIO, "QMP: no reply within %d ms", q->timeout_ms);
			if (poll(&p, 1, (int)left) < 0) {
				if (errno == EINTR)
					return vmet_errf(err, VMET_EINTR, "QMP: interrupted");
				return vmet_errf(err, VMET_EIO, "QMP: poll: %s", strerror(errno));
			}
			if (!(p.revents & (POLLIN | POLLHUP | POLLERR)))
				continue;
			r = read(q->fd, q->buf + q->len, q->cap - q->len);
			if (r < 0 && errno == EINTR)
				continue;
			if (r < 0)
				return vmet_errf(err, VMET_EIO, "QMP: read: %s", strerror(errno));
			if (r == 0)
				return vmet_errf(err, VMET_EIO, "QMP: QEMU closed the connection");
			q->len += (size_t)r;
		}
	}
}

static int write_all(struct qmp *q, const char *s, struct vmet_err *err)
{
	size_t n = strlen(s);

	while (n) {
		ssize_t w = write(q->fd, s, n);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return vmet_errf(err, VMET_EIO, "QMP: write: %s", strerror(errno));
		s += w;
		n -= (size_t)w;
	}
	return 0;
}

/* Decode a JSON string starting after its opening quote; NULL if malformed. */
static char *json_unescape(const char *p)
{
	size_t cap = strlen(p) + 1, n = 0;
	char *out = malloc(cap);

	if (!out)
		return NULL;
	while (*p && *p != '"') {
		char c = *p++;

		if (c == '\\') {
			c = *p++;
			switch (c) {
			case 'n': c = '\n'; break;
			case 'r': c = '\r'; break;
			case 't': c = '\t'; break;
			case 'b': c = '\b'; break;
			case 'f': c = '\f'; break;
			case '"': case '\\': case '/': break;
			case 'u': {
				unsigned v = 0;

				for (int i = 0; i < 4; i++) {
					char h = *p++;

					v <<= 4;
					if (h >= '0' && h <= '9') v |= (unsigned)(h - '0');
					else if (h >= 'a' && h <= 'f') v |= (unsigned)(h - 'a' + 10);
					else if (h >= 'A' && h <= 'F') v |= (unsigned)(h - 'A' + 10);
					else { free(out); return NULL; }
				}
				/* HMP text is ASCII; anything else becomes '?' */
				c = v < 0x80 ? (char)v : '?';
				break;
			}
			default:
				free(out);
				return NULL;
			}
		}
		out[n++] = c;
	}
	if (*p != '"') {
		free(out);
		return NULL;
	}
	out[n] = '\0';
	return out;
}

char *qmp_return_string(const char *reply)
{
	const char *p = strstr(reply, "\"return\"");

	if (!p)
		return NULL;
	p += 8;
	while (*p == ' ' || *p == ':')
		p++;
	if (*p != '"')
		return NULL;
	return json_unescape(p + 1);
}

/* Read lines until a reply (return or error), skipping events. */
static int read_reply(struct qmp *q, char **reply, struct vmet_err *err)
{
	for (int skipped = 0; skipped < 10000; skipped++) {
		char *line;
		int rc = read_line(q, &line, err);

		if (rc)
			return rc;
		/* Replies start with "return" or "error"; anything else (events,
		 * which start with "timestamp") is skipped. */
		if (strncmp(line, "{\"return\"", 9) && strncmp(line, "{\"error\"", 8)) {
			free(line);
			continue;
		}
		if (!strncmp(line, "{\"error\"", 8)) {
			const char *d = strstr(line, "\"desc\"");
			char *desc = NULL;

			if (d && (d = strchr(d + 6, '"')))
				desc = json_unescape(d + 1);
			vmet_errf(err, VMET_EIO, "QMP error: %s", desc ? desc : line);
			free(desc);
			free(line);
			return VMET_EIO;
		}
		if (reply)
			*reply = line;
		else
			free(line);
		return 0;
	}
	return vmet_errf(err, VMET_ELIMIT, "QMP: too many events without a reply");
}

int qmp_open_fd(int fd, const char *name, int timeout_ms, struct qmp **out, struct vmet_err *err)
{
	struct qmp *q = calloc(1, sizeof(*q));
	char *greeting = NULL;
	int rc;

	if (!q) {
		close(fd);
		return vmet_errf(err, VMET_ENOMEM, "out of memory");
	}
	q->fd = fd;
	q->timeout_ms = timeout_ms > 0 ? timeout_ms : 10000;
	/* The greeting comes first; then capabilities negotiation. */
	rc = read_line(q, &greeting, err);
	if (!rc && !strstr(greeting, "\"QMP\""))
		rc = vmet_errf(err, VMET_EFORMAT, "%s does not speak QMP (greeting: %.80s)", name, greeting);
	free(greeting);
	if (!rc)
		rc = qmp_execute(q, "{\"execute\":\"qmp_capabilities\"}", NULL, err);
	if (rc) {
		vmet_err_prefix(err, rc, "QMP %s", name);
		qmp_close(q);
		return rc;
	}
	*out = q;
	return 0;
}

int qmp_open(const char *path, int timeout_ms, struct qmp **out, struct vmet_err *err)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd;

	if (strlen(path) >= sizeof(sa.sun_path))
		return vmet_errf(err, VMET_EINVAL, "QMP socket path too long: %s", path);
	strcpy(sa.sun_path, path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		int rc = vmet_errf(err, VMET_EIO, "QMP socket %s: %s", path, strerror(errno));

		if (fd >= 0)
			close(fd);
		return rc;
	}
	return qmp_open_fd(fd, path, timeout_ms, out, err);
}

void qmp_close(struct qmp *q)
{
	if (!q)
		return;
	if (q->fd >= 0)
		close(q->fd);
	free(q->buf);
	free(q);
}

int qmp_execute(struct qmp *q, const char *json_cmd, char **reply, struct vmet_err *err)
{
	int rc = write_all(q, json_cmd, err);

	if (!rc)
		rc = write_all(q, "\n", err);
	if (!rc)
		rc = read_reply(q, reply, err);
	return rc;
}

int qmp_hmp(struct qmp *q, const char *cmdline, char **out, struct vmet_err *err)
{
	char *cmd, *reply = NULL;
	int rc;

	/* HMP command lines are vmet's own (never guest data); still refuse
	 * characters that would need JSON escaping rather than escape them. */
	if (strpbrk(cmdline, "\"\\\n\r"))
		return vmet_errf(err, VMET_EINVAL, "HMP command has characters QMP would need escaped");
	if (asprintf(&cmd, "{\"execute\":\"human-monitor-command\",\"arguments\":{\"command-line\":\"%s\"}}",
		     cmdline) < 0)
		return vmet_errf(err, VMET_ENOMEM, "out of memory");
	rc = qmp_execute(q, cmd, &reply, err);
	free(cmd);
	if (rc)
		return rc;
	*out = qmp_return_string(reply);
	free(reply);
	if (!*out)
		return vmet_errf(err, VMET_EFORMAT, "QMP: human-monitor-command '%s' returned no text", cmdline);
	return 0;
}
