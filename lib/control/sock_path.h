/* SPDX-License-Identifier: BSD-3-Clause */
/**
 * @file
 * sock_path.h - the path of a UNIX socket the daemon is about to bind: a live server's is
 * refused, a stale one (left by a daemon that was killed) is removed.
 */
#ifndef PMX_SOCK_PATH_H
#define PMX_SOCK_PATH_H

/**
 * Make path free for bind(): nothing there is fine; a socket nobody accepts on
 * (ECONNREFUSED: its server is gone) is removed; a socket a server accepts on, or anything
 * that is not a socket, is left alone. type is the socket type the server would use
 * (SOCK_STREAM, SOCK_SEQPACKET). Thread-safe (no state); it connects once, without blocking.
 * @return 0 nothing was there, 1 a stale socket was removed, -EADDRINUSE a live server
 *         accepts connections on it, -ENOTSOCK it is not a socket, or the -errno of lstat,
 *         connect or unlink (e.g. -EACCES).
 */
int pmx_sock_path_claim(const char *path, int type);

#endif
