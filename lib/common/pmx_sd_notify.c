/* pmx_sd_notify.c - datagrams to systemd's $NOTIFY_SOCKET (ready, stopping, status, watchdog) */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "pmx_sd_notify.h"

int pmx_sd_notify(const char *state)
{
	const char *name = getenv("NOTIFY_SOCKET");
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	size_t len;
	ssize_t n;
	int fd, ret;

	if (name == NULL || name[0] == '\0')
		return 0;
	if (state == NULL || state[0] == '\0')
		return -EINVAL;
	len = strlen(name);
	if ((name[0] != '/' && name[0] != '@') || len < 2 || len > sizeof(sa.sun_path))
		return -EINVAL;
	if (name[0] == '/' && len == sizeof(sa.sun_path)) /* no room for the terminating NUL */
		return -EINVAL;
	memcpy(sa.sun_path, name, len);
	if (name[0] == '@')
		sa.sun_path[0] =
			'\0'; /* abstract: the name is the bytes after the NUL, unterminated */
	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	n = sendto(fd, state, strlen(state), MSG_NOSIGNAL, (const struct sockaddr *)&sa,
		   (socklen_t)(offsetof(struct sockaddr_un, sun_path) + len + (name[0] == '/')));
	ret = n < 0 ? -errno : 1;
	close(fd);
	return ret;
}

int pmx_sd_notifyf(const char *fmt, ...)
{
	char buf[1024];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof(buf))
		return -EMSGSIZE;
	return pmx_sd_notify(buf);
}

/* A positive decimal number with nothing after it. 0 or -EINVAL. */
static int parse_positive(const char *s, unsigned long long *v)
{
	char *end;

	if (s[0] < '0' || s[0] > '9')
		return -EINVAL;
	errno = 0;
	*v = strtoull(s, &end, 10);
	if (errno != 0 || *end != '\0' || *v == 0)
		return -EINVAL;
	return 0;
}

int pmx_sd_watchdog_usec(uint64_t *usec)
{
	const char *us = getenv("WATCHDOG_USEC"), *pid = getenv("WATCHDOG_PID");
	unsigned long long u, p;

	if (us == NULL)
		return -ENODATA;
	if (parse_positive(us, &u) != 0)
		return -EINVAL;
	if (pid != NULL) {
		if (parse_positive(pid, &p) != 0)
			return -EINVAL;
		if (p != (unsigned long long)getpid())
			return -ENODATA;
	}
	*usec = u;
	return 0;
}
