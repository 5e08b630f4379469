/* sock_path.c - a UNIX socket path before bind: refuse a live server's, remove a stale one */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "sock_path.h"

int pmx_sock_path_claim(const char *path, int type)
{
	struct sockaddr_un addr = {.sun_family = AF_UNIX};
	struct stat st;
	int fd, ret;

	if (lstat(path, &st) != 0)
		return errno == ENOENT ? 0 : -errno;
	if (!S_ISSOCK(st.st_mode))
		return -ENOTSOCK;
	if (strlen(path) >= sizeof(addr.sun_path))
		return -ENAMETOOLONG;
	snprintf(addr.sun_path, sizeof(addr.sun_path), "%s", path);
	fd = socket(AF_UNIX, type | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	/* a listener accepts (or its backlog is full: EAGAIN); a dead one's file refuses */
	ret = connect(fd, (struct sockaddr *)&addr, sizeof(addr)) == 0 ? 0 : errno;
	close(fd);
	if (ret == 0 || ret == EAGAIN || ret == EINPROGRESS)
		return -EADDRINUSE;
	if (ret == ENOENT)
		return 0; /* gone meanwhile */
	if (ret != ECONNREFUSED)
		return -ret;
	if (unlink(path) != 0)
		return errno == ENOENT ? 0 : -errno;
	return 1;
}
