/* client_restart.c - libportmux-client: come back after the daemon stopped or died (release
 * everything by executing the program again, which waits for the control socket) */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/socket.h>
#include <sys/un.h>

#include "client_private.h"
#include "portmux_client.h"

#define FIRST_DELAY_MS 50u
#define MAX_DELAY_MS 1000u

uint64_t pmx_client_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* 0 when a daemon accepts connections on path now, else connect()'s -errno. */
static int socket_answers(const char *path)
{
	struct sockaddr_un addr = {.sun_family = AF_UNIX};
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0), ret;

	if (fd < 0)
		return -errno;
	snprintf(addr.sun_path, sizeof(addr.sun_path), "%s", path);
	ret = connect(fd, (struct sockaddr *)&addr, sizeof(addr)) == 0 ? 0 : -errno;
	close(fd);
	return ret;
}

int pmx_client_wait_socket(const char *path, unsigned wait_ms)
{
	uint64_t deadline = pmx_client_now_ms() + wait_ms;
	unsigned delay = FIRST_DELAY_MS;
	int ret;

	if (path == NULL)
		return -EINVAL;
	while ((ret = socket_answers(path)) != 0) {
		uint64_t now = pmx_client_now_ms();

		if (ret != -ENOENT && ret != -ECONNREFUSED && ret != -EAGAIN)
			return ret; /* e.g. EACCES: waiting would not help */
		if (now >= deadline)
			return -ETIMEDOUT;
		usleep(1000 * (unsigned)RTE_MIN((uint64_t)delay, deadline - now));
		delay = RTE_MIN(delay * 2, MAX_DELAY_MS);
	}
	return 0;
}

int pmx_client_restart(struct pmx_client *c, char *const argv[], unsigned wait_ms)
{
	char wait_arg[16];

	if (c == NULL || argv == NULL) {
		pmx_client_close(c);
		return -EINVAL;
	}
	pmx_client_close(c);
	/* the next run waits for the socket (pmx_client_open()): this one must not, it holds
	 * what a new daemon needs (EAL's files of the prefix, the kernel path's TAP queues) */
	snprintf(wait_arg, sizeof(wait_arg), "%u", wait_ms);
	if (setenv(PMX_CLIENT_WAIT_ENV, wait_arg, 1) != 0)
		return -errno;
	fflush(NULL);
	/* nothing of this run may outlive the exec: EAL's files, sockets, hugepage fds */
	if (close_range(3, ~0u, CLOSE_RANGE_CLOEXEC) != 0)
		for (int fd = 3; fd < 65536; fd++)
			close(fd);
	execv("/proc/self/exe", argv);
	return -errno;
}
