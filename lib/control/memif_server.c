/* memif_server.c - the memif socket: handshake, region and ring checks, mapping and
 * disconnect of isolated clients (management lcore; the frames go through memif_ring.c) */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <linux/magic.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/un.h>

#include <rte_cycles.h>

#include "memif_ring.h"
#include "memif_server.h"
#include "pmx_memif_proto.h"
#include "pmx_log.h"
#include "sock_path.h"

#define MIF_SECRET_LEN 23 /* memif clients strlcpy the secret into 24 bytes */

#define MAX_CONNS 64                 /* connections at once, handshaking or connected */
#define HANDSHAKE_S 5                /* a handshake not done by then is dropped */
#define MAX_REGION_SIZE (1ull << 30) /* a region larger than 1 GiB is refused */
#define MAX_FDS 4                    /* fds taken from one message (the rest are closed) */

enum conn_state { CONN_HELLO, CONN_INIT, CONN_UP };

struct ring_decl {
	int set;
	uint16_t region;
	uint32_t offset;
	uint8_t log2;
};

struct conn {
	int sock;
	enum conn_state state;
	uint16_t id; /* slot, once INIT was accepted */
	uint64_t since;
	struct pmx_memif_region region[PMX_MEMIF_MAX_REGIONS];
	unsigned n_regions;
	struct ring_decl ring[2];    /* 0: S2M (client -> switch), 1: M2S */
	struct pmx_memif_chan *chan; /* published to the slot once connected */
};

struct pmx_memif_server {
	struct pmx_switch *sw;
	char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
	int lsock;
	struct conn *conn[MAX_CONNS];
	char secret[PMX_MAX_CLIENTS][25]; /* "" : the slot may not connect */
	uint64_t log_at;                  /* rate limit of refusal logs: one a second */
	unsigned log_skipped;
};

static int send_msg(int sock, const struct mif_msg *m)
{
	return send(sock, m, sizeof(*m), MSG_NOSIGNAL | MSG_DONTWAIT) == (ssize_t)sizeof(*m) ? 0
											     : -EIO;
}

static int send_type(int sock, uint16_t type)
{
	struct mif_msg m;

	memset(&m, 0, sizeof(m));
	m.type = type;
	return send_msg(sock, &m);
}

static void log_refusal(struct pmx_memif_server *srv, const struct conn *c, const char *why)
{
	uint64_t now = rte_get_tsc_cycles();

	if (srv->log_at != 0 && now - srv->log_at < rte_get_tsc_hz()) {
		srv->log_skipped++;
		return;
	}
	PMX_LOG(WARNING, ctl, "memif: connection (slot %d) refused: %s (%u refusals not logged)",
		c->state == CONN_HELLO ? -1 : (int)c->id, why, srv->log_skipped);
	srv->log_at = now;
	srv->log_skipped = 0;
}

/* Close connection i: unpublish its channel, wait until no RX lcore can be inside it, then
 * unmap its regions. */
static void conn_close(struct pmx_memif_server *srv, unsigned i)
{
	struct conn *c = srv->conn[i];

	if (c == NULL)
		return;
	if (c->chan != NULL) {
		__atomic_store_n(&srv->sw->clients[c->id].memif_chan, NULL, __ATOMIC_RELEASE);
		pmx_flow_table_synchronize(srv->sw->ft);
		free(c->chan);
	}
	for (unsigned r = 0; r < c->n_regions; r++)
		munmap(c->region[r].addr, c->region[r].size);
	close(c->sock);
	free(c);
	srv->conn[i] = NULL;
}

/* Refuse: DISCONNECT with the reason, log (rate-limited), close. */
static void conn_refuse(struct pmx_memif_server *srv, unsigned i, const char *why)
{
	struct mif_msg m;

	memset(&m, 0, sizeof(m));
	m.type = MIF_MSG_DISCONNECT;
	snprintf((char *)m.disconnect.string, sizeof(m.disconnect.string), "%s", why);
	send_msg(srv->conn[i]->sock, &m);
	log_refusal(srv, srv->conn[i], why);
	conn_close(srv, i);
}

static const char *on_init(struct pmx_memif_server *srv, struct conn *c, const struct mif_init *in)
{
	const struct pmx_client_slot *slot;

	if (in->version != MIF_VERSION)
		return "incompatible memif version";
	if (in->mode != 0)
		return "only ethernet mode";
	if (in->id >= srv->sw->clients_max)
		return "unknown interface id";
	slot = &srv->sw->clients[in->id];
	if (__atomic_load_n(&slot->state, __ATOMIC_ACQUIRE) != PMX_SLOT_ACTIVE ||
	    slot->channel != PMX_CHANNEL_MEMIF || srv->secret[in->id][0] == '\0')
		return "unknown interface id";
	if (strnlen((const char *)in->secret, sizeof(in->secret)) != MIF_SECRET_LEN ||
	    memcmp(in->secret, srv->secret[in->id], MIF_SECRET_LEN) != 0)
		return "incorrect secret";
	for (unsigned k = 0; k < MAX_CONNS; k++)
		if (srv->conn[k] != NULL && srv->conn[k] != c &&
		    srv->conn[k]->state != CONN_HELLO && srv->conn[k]->id == in->id)
			return "interface id already connected";
	c->id = (uint16_t)in->id;
	c->state = CONN_INIT;
	return NULL;
}

static const char *on_add_region(struct conn *c, const struct mif_add_region *ar, int fd)
{
	struct statfs fs;
	struct stat st;
	int seals;
	void *addr;

	if (fd < 0)
		return "region without a file descriptor";
	if (ar->index != c->n_regions || c->n_regions >= PMX_MEMIF_MAX_REGIONS)
		return "too many regions (or out of order)";
	if (ar->size == 0 || ar->size > MAX_REGION_SIZE)
		return "region size out of range";
	if (fstatfs(fd, &fs) != 0 || fs.f_type != TMPFS_MAGIC)
		return "region not a memfd (shmem)"; /* hugetlbfs faults can SIGBUS */
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || (uint64_t)st.st_size < ar->size)
		return "region file smaller than declared";
	seals = fcntl(fd, F_GET_SEALS);
	if (seals < 0 || !(seals & F_SEAL_SHRINK))
		return "region file not sealed against shrinking (F_SEAL_SHRINK)";
	addr = mmap(NULL, ar->size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (addr == MAP_FAILED)
		return "region cannot be mapped";
	c->region[c->n_regions].addr = addr;
	c->region[c->n_regions].size = ar->size;
	c->n_regions++;
	return NULL;
}

static const char *on_add_ring(struct conn *c, const struct mif_add_ring *ar)
{
	struct ring_decl *rd;

	if ((ar->flags & ~MIF_RING_C2S) != 0 || ar->index != 0)
		return "one ring per direction (queue 0) only";
	rd = &c->ring[ar->flags & MIF_RING_C2S ? 0 : 1];
	if (rd->set)
		return "ring added twice";
	if (ar->region >= c->n_regions)
		return "ring in a region not added";
	if (ar->log2_ring_size > PMX_MEMIF_MAX_LOG2_RING)
		return "ring larger than 2^14 slots";
	if (ar->offset % 16 != 0 ||
	    (uint64_t)ar->offset + pmx_memif_ring_bytes(ar->log2_ring_size) >
		    c->region[ar->region].size)
		return "ring not inside its region";
	*rd = (struct ring_decl){
		.set = 1, .region = ar->region, .offset = ar->offset, .log2 = ar->log2_ring_size};
	return NULL;
}

static struct pmx_memif_ring *ring_at(const struct conn *c, const struct ring_decl *rd)
{
	return (struct pmx_memif_ring *)(c->region[rd->region].addr + rd->offset);
}

/* CONNECT: both rings there, cookies right; reset them and publish the channel. */
static const char *on_connect(struct pmx_memif_server *srv, struct conn *c)
{
	struct pmx_memif_chan *ch;

	if (!c->ring[0].set || !c->ring[1].set)
		return "need one ring in each direction";
	if (__atomic_load_n(&ring_at(c, &c->ring[0])->cookie, __ATOMIC_RELAXED) !=
		    PMX_MEMIF_COOKIE ||
	    __atomic_load_n(&ring_at(c, &c->ring[1])->cookie, __ATOMIC_RELAXED) != PMX_MEMIF_COOKIE)
		return "wrong ring cookie";
	ch = calloc(1, sizeof(*ch));
	if (ch == NULL)
		return "out of memory";
	memcpy(ch->region, c->region, sizeof(ch->region));
	ch->n_regions = c->n_regions;
	ch->s2m = ring_at(c, &c->ring[0]);
	ch->m2s = ring_at(c, &c->ring[1]);
	ch->s2m_size = 1u << c->ring[0].log2;
	ch->m2s_size = 1u << c->ring[1].log2;
	/* as DPDK's server does: both rings start empty; the client need not notify us */
	__atomic_store_n(&ch->s2m->head, 0, __ATOMIC_RELAXED);
	__atomic_store_n(&ch->s2m->tail, 0, __ATOMIC_RELAXED);
	__atomic_store_n(&ch->m2s->head, 0, __ATOMIC_RELAXED);
	__atomic_store_n(&ch->m2s->tail, 0, __ATOMIC_RELAXED);
	__atomic_store_n(&ch->s2m->flags, PMX_MEMIF_RING_MASK_INT, __ATOMIC_RELAXED);
	c->chan = ch;
	c->state = CONN_UP;
	__atomic_store_n(&srv->sw->clients[c->id].memif_chan, ch, __ATOMIC_RELEASE);
	return NULL;
}

/* Receive one message and its fds (at most MAX_FDS kept, in fds). @return 1 a message,
 * 0 none waiting, -1 the peer closed or sent something that is not one message. */
static int recv_msg(int sock, struct mif_msg *m, int *fds, unsigned *n_fds)
{
	char ctl[CMSG_SPACE(MAX_FDS * sizeof(int))];
	struct iovec iov = {.iov_base = m, .iov_len = sizeof(*m)};
	struct msghdr mh = {.msg_iov = &iov,
			    .msg_iovlen = 1,
			    .msg_control = ctl,
			    .msg_controllen = sizeof(ctl)};
	ssize_t n = recvmsg(sock, &mh, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);

	*n_fds = 0;
	if (n < 0)
		return errno == EAGAIN || errno == EWOULDBLOCK ? 0 : -1;
	for (struct cmsghdr *cm = CMSG_FIRSTHDR(&mh); cm != NULL; cm = CMSG_NXTHDR(&mh, cm)) {
		if (cm->cmsg_level != SOL_SOCKET || cm->cmsg_type != SCM_RIGHTS)
			continue;
		for (size_t k = 0;
		     k < (cm->cmsg_len - CMSG_LEN(0)) / sizeof(int) && *n_fds < MAX_FDS; k++)
			memcpy(&fds[(*n_fds)++], CMSG_DATA(cm) + k * sizeof(int), sizeof(int));
	}
	if (n != (ssize_t)sizeof(*m) || (mh.msg_flags & (MSG_TRUNC | MSG_CTRUNC)))
		return -1;
	return 1;
}

/* One message of connection i. @return NULL (handled, the reply sent), or why to refuse. */
static const char *handle(struct pmx_memif_server *srv, unsigned i, const struct mif_msg *m,
			  const int *fds, unsigned n_fds)
{
	struct conn *c = srv->conn[i];
	const char *why = NULL;

	if (m->type == MIF_MSG_ADD_REGION ? n_fds > 1 : (m->type != MIF_MSG_ADD_RING && n_fds > 0))
		return "unexpected file descriptors";
	switch (c->state) {
	case CONN_HELLO:
		why = m->type == MIF_MSG_INIT ? on_init(srv, c, &m->init) : "expected INIT";
		break;
	case CONN_INIT:
		if (m->type == MIF_MSG_ADD_REGION)
			why = on_add_region(c, &m->add_region, n_fds ? fds[0] : -1);
		else if (m->type == MIF_MSG_ADD_RING)
			why = on_add_ring(c, &m->add_ring); /* its interrupt fd: we poll */
		else if (m->type == MIF_MSG_CONNECT)
			why = on_connect(srv, c);
		else
			why = "unexpected message";
		break;
	case CONN_UP: why = "unexpected message after CONNECT"; break;
	}
	if (why != NULL)
		return why;
	if (send_type(c->sock, c->state == CONN_UP ? MIF_MSG_CONNECTED : MIF_MSG_ACK) != 0)
		return "cannot reply";
	return NULL;
}

static unsigned accept_new(struct pmx_memif_server *srv)
{
	struct mif_msg m;
	unsigned done = 0;
	int s;

	while ((s = accept4(srv->lsock, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC)) >= 0) {
		unsigned i;
		struct conn *c;

		done++;
		for (i = 0; i < MAX_CONNS && srv->conn[i] != NULL; i++)
			;
		c = i < MAX_CONNS ? calloc(1, sizeof(*c)) : NULL;
		if (c == NULL) {
			close(s); /* full: the client sees the socket close */
			continue;
		}
		c->sock = s;
		c->since = rte_get_tsc_cycles();
		srv->conn[i] = c;
		memset(&m, 0, sizeof(m));
		m.type = MIF_MSG_HELLO;
		snprintf((char *)m.hello.name, sizeof(m.hello.name), "portmux");
		m.hello.min_version = m.hello.max_version = MIF_VERSION;
		m.hello.max_region = PMX_MEMIF_MAX_REGIONS - 1;
		m.hello.max_s2c_ring = m.hello.max_c2s_ring = 0;
		m.hello.max_log2_ring_size = PMX_MEMIF_MAX_LOG2_RING;
		if (send_msg(s, &m) != 0)
			conn_close(srv, i);
	}
	return done;
}

unsigned pmx_memif_server_poll(struct pmx_memif_server *srv)
{
	uint64_t now, limit;
	unsigned done;

	if (srv == NULL)
		return 0;
	done = accept_new(srv);
	now = rte_get_tsc_cycles();
	limit = HANDSHAKE_S * rte_get_tsc_hz();
	for (unsigned i = 0; i < MAX_CONNS; i++) {
		struct conn *c = srv->conn[i];
		struct mif_msg m;
		int fds[MAX_FDS];
		unsigned n_fds;
		const char *why;
		int got;

		if (c == NULL)
			continue;
		if (c->chan != NULL && __atomic_load_n(&c->chan->violation, __ATOMIC_ACQUIRE)) {
			conn_refuse(srv, i, "ring index out of range");
			done++;
			continue;
		}
		if (c->state != CONN_UP && now - c->since > limit) {
			conn_refuse(srv, i, "handshake too slow");
			done++;
			continue;
		}
		got = recv_msg(c->sock, &m, fds, &n_fds);
		if (got == 0)
			continue;
		done++;
		if (got < 0) { /* closed, or not a message: gone either way */
			for (unsigned k = 0; k < n_fds; k++)
				close(fds[k]);
			conn_close(srv, i);
			continue;
		}
		why = m.type == MIF_MSG_DISCONNECT ? "" : handle(srv, i, &m, fds, n_fds);
		for (unsigned k = 0; k < n_fds; k++)
			close(fds[k]); /* regions are mapped, interrupt fds unused */
		if (why != NULL && why[0] == '\0')
			conn_close(srv, i); /* the client said goodbye */
		else if (why != NULL)
			conn_refuse(srv, i, why);
	}
	return done;
}

/* The memif socket lets in whom the control socket lets in (its mode and group): others
 * could not get a secret anyway, and must not hold handshake slots either. */
static int same_access(const char *path, const char *like)
{
	struct stat st;

	if (stat(like, &st) != 0)
		return 0; /* no control socket (unit tests): the default mode */
	if (chmod(path, st.st_mode & 0777) != 0 || chown(path, (uid_t)-1, st.st_gid) != 0)
		return -1;
	return 0;
}

struct pmx_memif_server *pmx_memif_server_create(struct pmx_switch *sw, const char *path)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	struct pmx_memif_server *srv;
	int err;

	if (strlen(path) >= sizeof(sa.sun_path)) {
		errno = ENAMETOOLONG;
		return NULL;
	}
	srv = calloc(1, sizeof(*srv));
	if (srv == NULL)
		return NULL;
	srv->sw = sw;
	snprintf(srv->path, sizeof(srv->path), "%s", path);
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	err = pmx_sock_path_claim(path, SOCK_SEQPACKET);
	if (err < 0) {
		errno = -err;
		goto err_free;
	}
	if (err == 1)
		PMX_LOG(NOTICE, ctl, "memif: %s: removed the socket of a daemon gone", path);
	srv->lsock = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (srv->lsock < 0)
		goto err_free;
	if (bind(srv->lsock, (struct sockaddr *)&sa, sizeof(sa)) != 0 ||
	    listen(srv->lsock, 16) != 0 || same_access(path, sw->cfg->socket_path) != 0)
		goto err_close;
	return srv;

err_close:
	err = errno;
	close(srv->lsock);
	errno = err;
err_free:
	err = errno;
	free(srv);
	errno = err;
	return NULL;
}

void pmx_memif_server_destroy(struct pmx_memif_server *srv)
{
	if (srv == NULL)
		return;
	for (unsigned i = 0; i < MAX_CONNS; i++)
		conn_close(srv, i);
	close(srv->lsock);
	unlink(srv->path);
	free(srv);
}

int pmx_memif_server_allow(struct pmx_memif_server *srv, uint16_t id, const char *given,
			   char *secret, size_t len)
{
	uint8_t rnd[12];
	FILE *f;
	size_t got;

	if (id >= PMX_MAX_CLIENTS || len < 2 * sizeof(rnd) + 1)
		return -EINVAL;
	if (given != NULL) {
		if (!pmx_memif_secret_valid(given))
			return -EINVAL;
		memmove(srv->secret[id], given, 2 * sizeof(rnd) + 1);
		if (secret != given)
			memmove(secret, given, 2 * sizeof(rnd) + 1);
		return 0;
	}
	f = fopen("/dev/urandom", "r");
	got = f ? fread(rnd, 1, sizeof(rnd), f) : 0;
	if (f != NULL)
		fclose(f);
	if (got != sizeof(rnd))
		return -EIO;
	for (unsigned i = 0; i < sizeof(rnd); i++)
		snprintf(srv->secret[id] + 2 * i, 3, "%02x", rnd[i]);
	snprintf(secret, len, "%s", srv->secret[id]);
	return 0;
}

bool pmx_memif_secret_valid(const char *secret)
{
	size_t n = strspn(secret, "0123456789abcdef");

	return n == 2 * 12 && secret[n] == '\0';
}

void pmx_memif_server_forget(struct pmx_memif_server *srv, uint16_t id)
{
	if (srv == NULL || id >= PMX_MAX_CLIENTS)
		return;
	srv->secret[id][0] = '\0';
	for (unsigned i = 0; i < MAX_CONNS; i++)
		if (srv->conn[i] != NULL && srv->conn[i]->state != CONN_HELLO &&
		    srv->conn[i]->id == id)
			conn_close(srv, i);
}
