/* client_restart.c - libportmux-client: come back after the daemon stopped or died (release
 * everything by executing the program again, which waits for the control socket) */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "client_private.h"
#include "pmx_ctl_client.h"
#include "portmux_client.h"

uint64_t pmx_client_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

int pmx_client_wait_socket(const char *path, unsigned wait_ms)
{
	/* at least 1 ms: with wait_ms 0, no daemon yet is -ETIMEDOUT too, not connect()'s error */
	struct pmx_ctl_client_opts opts = {.connect_wait_ms = wait_ms ? wait_ms : 1};
	struct pmx_ctl_client *probe;
	int ret;

	if (path == NULL)
		return -EINVAL;
	ret = pmx_ctl_client_open(path, &opts, &probe);
	if (ret == 0)
		pmx_ctl_client_close(probe);
	return ret;
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
