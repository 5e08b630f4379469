/* nic_offloads.c - turn off what merges frames before a NIC port's packet socket reads them
 * (GRO, LRO, ...) on kernel interfaces the switch takes, and turn it back on when it lets go */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <linux/ethtool.h>
#include <linux/sockios.h>

#include "config.h"
#include "nic_offloads.h"
#include "pmx_log.h"

#define MAX_IFACES 64

_Static_assert(PMX_OFFLOAD_NAME_LEN == ETH_GSTRING_LEN, "feature names are ethtool strings");

/* The features that keep the packet socket from seeing wire frames, and why. */
static const struct {
	const char *name;
	const char *why;
} offending[] = {
	{"rx-gro", "GRO merges segments into super-frames"},
	{"rx-gro-hw", "hardware GRO merges segments in the NIC"},
	{"rx-lro", "LRO merges TCP segments in the NIC"},
	{"rx-gro-list", "GRO lists chain segments into one frame"},
	{"rx-udp-gro-forwarding", "UDP GRO forwarding merges datagrams"},
	{"rx-fcs", "frames would carry their FCS"},
};

/* One interface: its state file's path and what it lists. */
struct iface {
	char path[PATH_MAX];
	struct pmx_offload_state st;
};

struct pmx_nic_offloads {
	int fd; /* any socket: the ethtool ioctl's handle into the daemon's network namespace */
	char dir[128]; /* the control socket's: a sun_path, at most 108 */
	unsigned n;
	struct iface ifc[MAX_IFACES];
};

/* The features of one interface as ETHTOOL_GFEATURES reports them. */
struct features {
	unsigned n;
	char (*name)[ETH_GSTRING_LEN];
	struct ethtool_gfeatures *get;
};

const char *pmx_nic_offloads_why(const char *name)
{
	for (size_t i = 0; i < sizeof(offending) / sizeof(offending[0]); i++)
		if (strcmp(name, offending[i].name) == 0)
			return offending[i].why;
	/* whatever a newer kernel adds under those names merges too */
	if (strncmp(name, "rx-", 3) == 0 && (strstr(name, "gro") != NULL || strstr(name, "lro")))
		return "merges frames";
	return NULL;
}

enum pmx_offload_action pmx_nic_offloads_decide(const char *name, bool available, bool requested,
						bool active)
{
	if (pmx_nic_offloads_why(name) == NULL || (!requested && !active))
		return PMX_OFFLOAD_KEEP;
	if (available)
		return PMX_OFFLOAD_TURN_OFF;
	/* a feature the driver does not let change is only a problem while it is in effect */
	return active ? PMX_OFFLOAD_FIXED : PMX_OFFLOAD_KEEP;
}

static bool feature_name_ok(const char *name)
{
	size_t len = strlen(name);

	if (len == 0 || len >= PMX_OFFLOAD_NAME_LEN)
		return false;
	for (size_t i = 0; i < len; i++)
		if (!((name[i] >= 'a' && name[i] <= 'z') || (name[i] >= '0' && name[i] <= '9') ||
		      name[i] == '-' || name[i] == '_'))
			return false;
	return true;
}

int pmx_offload_state_add(struct pmx_offload_state *st, const char *name)
{
	if (!feature_name_ok(name))
		return -EINVAL;
	for (unsigned i = 0; i < st->n; i++)
		if (strcmp(st->on[i], name) == 0)
			return 0;
	if (st->n == PMX_OFFLOAD_STATE_MAX)
		return -ENOSPC;
	snprintf(st->on[st->n++], PMX_OFFLOAD_NAME_LEN, "%s", name);
	return 0;
}

int pmx_offload_state_format(const struct pmx_offload_state *st, char *buf, size_t len)
{
	size_t used;
	int n;

	if (!pmx_name_ok(st->ifname, IF_NAMESIZE, "."))
		return -EINVAL;
	n = snprintf(buf, len,
		     "# portmuxd turned these features of %s off; they were on: it turns them on\n"
		     "# again when it stops (a start after a crash keeps this list)\n"
		     "iface %s\nifindex %u\n",
		     st->ifname, st->ifname, st->ifindex);
	for (unsigned i = 0; n >= 0 && (size_t)n < len && i < st->n; i++) {
		used = (size_t)n;
		n = snprintf(buf + used, len - used, "on %s\n", st->on[i]);
		n = n < 0 ? n : n + (int)used;
	}
	return n < 0 || (size_t)n >= len ? -ENOSPC : 0;
}

/* One line of a state file into st; *seen collects which of iface (1) and ifindex (2) came. */
static int parse_line(char *line, struct pmx_offload_state *st, unsigned *seen)
{
	char *value = strchr(line, ' ');
	char *end;
	unsigned long idx;

	if (line[0] == '#' || line[0] == '\0')
		return 0;
	if (value == NULL)
		return -EINVAL;
	*value++ = '\0';
	if (strcmp(line, "iface") == 0 && !(*seen & 1) && pmx_name_ok(value, IF_NAMESIZE, ".")) {
		snprintf(st->ifname, sizeof(st->ifname), "%s", value);
		*seen |= 1;
		return 0;
	}
	if (strcmp(line, "ifindex") == 0 && !(*seen & 2) && value[0] >= '1' && value[0] <= '9') {
		errno = 0;
		idx = strtoul(value, &end, 10);
		if (errno != 0 || *end != '\0' || idx > INT_MAX)
			return -EINVAL;
		st->ifindex = (unsigned)idx;
		*seen |= 2;
		return 0;
	}
	if (strcmp(line, "on") == 0)
		return pmx_offload_state_add(st, value);
	return -EINVAL;
}

int pmx_offload_state_parse(const char *text, struct pmx_offload_state *st)
{
	struct pmx_offload_state tmp = {0};
	char *copy = strdup(text), *save = NULL, *line;
	unsigned seen = 0;
	int ret = 0;

	if (copy == NULL)
		return -ENOMEM;
	/* strtok_r skips empty lines: they are allowed anyway */
	for (line = strtok_r(copy, "\n", &save); line != NULL && ret == 0;
	     line = strtok_r(NULL, "\n", &save))
		ret = parse_line(line, &tmp, &seen);
	free(copy);
	if (ret == 0 && seen != 3)
		ret = -EINVAL;
	if (ret == 0)
		*st = tmp;
	return ret;
}

bool pmx_offload_state_applies(const struct pmx_offload_state *prev, const char *ifname,
			       unsigned ifindex)
{
	return strcmp(prev->ifname, ifname) == 0 && prev->ifindex == ifindex;
}

/* ---- the kernel's side: SIOCETHTOOL ---- */

static int ethtool(int fd, const char *ifname, void *cmd)
{
	struct ifreq ifr = {0};

	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", ifname);
	ifr.ifr_data = cmd;
	return ioctl(fd, SIOCETHTOOL, &ifr) < 0 ? -errno : 0;
}

static void features_free(struct features *f)
{
	free(f->name);
	free(f->get);
	f->name = NULL;
	f->get = NULL;
}

/* Read the names and the bits of every feature of ifname into f. */
static int features_read(int fd, const char *ifname, struct features *f)
{
	struct {
		struct ethtool_sset_info hdr;
		uint32_t count;
	} info = {.hdr = {.cmd = ETHTOOL_GSSET_INFO, .sset_mask = 1ULL << ETH_SS_FEATURES}};
	struct ethtool_gstrings *strings = NULL;
	unsigned words;
	int ret;

	f->name = NULL;
	f->get = NULL;
	ret = ethtool(fd, ifname, &info);
	if (ret == 0 && (info.hdr.sset_mask == 0 || info.count == 0))
		ret = -EOPNOTSUPP;
	if (ret != 0)
		return ret;
	f->n = info.count;
	words = (f->n + 31) / 32;
	strings = calloc(1, sizeof(*strings) + (size_t)f->n * ETH_GSTRING_LEN);
	f->get = calloc(1, sizeof(*f->get) + words * sizeof(f->get->features[0]));
	f->name = calloc(f->n, ETH_GSTRING_LEN);
	if (strings == NULL || f->get == NULL || f->name == NULL) {
		ret = -ENOMEM;
		goto out;
	}
	strings->cmd = ETHTOOL_GSTRINGS;
	strings->string_set = ETH_SS_FEATURES;
	strings->len = f->n;
	f->get->cmd = ETHTOOL_GFEATURES;
	f->get->size = words;
	ret = ethtool(fd, ifname, strings);
	if (ret == 0)
		ret = ethtool(fd, ifname, f->get);
	if (ret != 0)
		goto out;
	for (unsigned i = 0; i < f->n; i++)
		snprintf(f->name[i], ETH_GSTRING_LEN, "%.*s", ETH_GSTRING_LEN - 1,
			 (const char *)strings->data + (size_t)i * ETH_GSTRING_LEN);
out:
	free(strings);
	if (ret != 0)
		features_free(f);
	return ret;
}

static bool bit(const uint32_t word, unsigned i)
{
	return (word >> (i % 32)) & 1;
}

static int feature_index(const struct features *f, const char *name)
{
	for (unsigned i = 0; i < f->n; i++)
		if (strcmp(f->name[i], name) == 0)
			return (int)i;
	return -1;
}

/* Ask for the features of `list` (indexes into f) to be on or off. */
static int features_set(int fd, const char *ifname, const struct features *f, const int *list,
			unsigned n, bool on)
{
	unsigned words = (f->n + 31) / 32;
	struct ethtool_sfeatures *set;
	int ret;

	set = calloc(1, sizeof(*set) + words * sizeof(set->features[0]));
	if (set == NULL)
		return -ENOMEM;
	set->cmd = ETHTOOL_SFEATURES;
	set->size = words;
	for (unsigned k = 0; k < n; k++) {
		set->features[list[k] / 32].valid |= 1U << (list[k] % 32);
		if (on)
			set->features[list[k] / 32].requested |= 1U << (list[k] % 32);
	}
	ret = ethtool(fd, ifname, set);
	free(set);
	return ret;
}

/* "rx-gro, rx-gro-list" for the log and errors */
static void name_list(const struct features *f, const int *list, unsigned n, char *buf, size_t len)
{
	size_t used = 0;

	buf[0] = '\0';
	for (unsigned k = 0; k < n && used < len; k++)
		used += (size_t)snprintf(buf + used, len - used, "%s%s", k > 0 ? ", " : "",
					 f->name[list[k]]);
}

/* ---- state files ---- */

static int state_write(const struct iface *ifc)
{
	char text[1024], tmp[PATH_MAX + 8];
	FILE *out;
	int ret = pmx_offload_state_format(&ifc->st, text, sizeof(text));

	if (ret != 0)
		return ret;
	snprintf(tmp, sizeof(tmp), "%s.new", ifc->path);
	out = fopen(tmp, "we");
	if (out == NULL)
		return -errno;
	/* written whole, then renamed over the old one: a crash leaves the old or the new */
	if (fputs(text, out) == EOF || fflush(out) != 0 || fsync(fileno(out)) != 0)
		ret = -errno;
	if (fclose(out) != 0 && ret == 0)
		ret = -errno;
	if (ret == 0 && rename(tmp, ifc->path) != 0)
		ret = -errno;
	if (ret != 0)
		unlink(tmp);
	return ret;
}

/* What a crashed run left for ifc (0, with prev empty when there is no file). */
static void state_read_previous(const struct iface *ifc, unsigned ifindex,
				struct pmx_offload_state *prev)
{
	char text[2048];
	FILE *in = fopen(ifc->path, "re");
	size_t len;

	memset(prev, 0, sizeof(*prev));
	if (in == NULL)
		return;
	len = fread(text, 1, sizeof(text) - 1, in);
	text[len] = '\0';
	fclose(in);
	if (pmx_offload_state_parse(text, prev) != 0) {
		PMX_LOG(WARNING, main, "offloads: %s: unreadable state file %s: replaced",
			ifc->st.ifname, ifc->path);
		memset(prev, 0, sizeof(*prev));
	} else if (!pmx_offload_state_applies(prev, ifc->st.ifname, ifindex)) {
		PMX_LOG(NOTICE, main,
			"offloads: %s: state file %s is of interface index %u, %s is %u now "
			"(recreated): ignored",
			ifc->st.ifname, ifc->path, prev->ifindex, ifc->st.ifname, ifindex);
		memset(prev, 0, sizeof(*prev));
	} else if (prev->n > 0) {
		PMX_LOG(NOTICE, main,
			"offloads: %s: a portmuxd that did not stop cleanly turned off %s%s%s%s "
			"(state file %s): turned back on when this one stops",
			ifc->st.ifname, prev->on[0], prev->n > 1 ? ", " : "",
			prev->n > 1 ? prev->on[1] : "", prev->n > 2 ? ", ..." : "", ifc->path);
	}
}

/* ---- the set ---- */

struct pmx_nic_offloads *pmx_nic_offloads_create(const char *ctl_socket)
{
	struct pmx_nic_offloads *o = calloc(1, sizeof(*o));
	char *slash;

	if (o == NULL)
		return NULL;
	o->fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (o->fd < 0) {
		free(o);
		return NULL;
	}
	snprintf(o->dir, sizeof(o->dir), "%s", ctl_socket);
	slash = strrchr(o->dir, '/');
	if (slash == NULL)
		snprintf(o->dir, sizeof(o->dir), ".");
	else if (slash == o->dir)
		slash[1] = '\0';
	else
		*slash = '\0';
	mkdir(o->dir, 0755); /* the control socket's, made early: ctl_sock.c makes it too */
	return o;
}

/* Everything of ifname that is to go off, into list; -EOPNOTSUPP with err on a fixed one. */
static int plan(const struct features *f, const char *ifname, int *list, unsigned *n, char *err,
		size_t errlen)
{
	*n = 0;
	for (unsigned i = 0; i < f->n; i++) {
		const struct ethtool_get_features_block *b = &f->get->features[i / 32];

		switch (pmx_nic_offloads_decide(f->name[i], bit(b->available, i),
						bit(b->requested, i), bit(b->active, i))) {
		case PMX_OFFLOAD_FIXED:
			snprintf(err, errlen,
				 "interface \"%s\": cannot turn off %s (%s): the driver has it "
				 "fixed on; the switch would not see wire frames",
				 ifname, f->name[i], pmx_nic_offloads_why(f->name[i]));
			return -EOPNOTSUPP;
		case PMX_OFFLOAD_TURN_OFF: list[(*n)++] = (int)i; break;
		default: break;
		}
	}
	return 0;
}

/* Record what goes off (the operator's values: what was asked for), then turn it off. */
static int turn_off(struct pmx_nic_offloads *o, struct iface *ifc, const struct features *f,
		    const int *list, unsigned n, char *err, size_t errlen)
{
	const char *ifname = ifc->st.ifname;
	struct pmx_offload_state before = ifc->st;
	char names[512];
	int ret = 0;

	for (unsigned k = 0; k < n && ret == 0; k++)
		if (bit(f->get->features[list[k] / 32].requested, list[k]))
			ret = pmx_offload_state_add(&ifc->st, f->name[list[k]]);
	if (ret == 0 && ifc->st.n > 0)
		ret = state_write(ifc);
	if (ret != 0)
		PMX_LOG(WARNING, main,
			"offloads: %s: cannot write %s (%s): after a crash the features turned off "
			"stay off",
			ifname, ifc->path, strerror(-ret));
	name_list(f, list, n, names, sizeof(names));
	ret = n > 0 ? features_set(o->fd, ifname, f, list, n, false) : 0;
	if (ret != 0) {
		snprintf(err, errlen, "interface \"%s\": cannot turn off %s (%s%s): %s%s", ifname,
			 names, pmx_nic_offloads_why(f->name[list[0]]), n > 1 ? ", ..." : "",
			 strerror(-ret), ret == -EPERM ? "; needs CAP_NET_ADMIN" : "");
		ifc->st = before; /* nothing changed: restore only what a crashed run left */
		if (before.n == 0)
			unlink(ifc->path);
		else
			state_write(ifc);
		return ret;
	}
	for (unsigned k = 0; k < n; k++)
		PMX_LOG(NOTICE, main, "offloads: %s: %s off (%s); back on when portmuxd stops",
			ifname, f->name[list[k]], pmx_nic_offloads_why(f->name[list[k]]));
	return 0;
}

int pmx_nic_offloads_take(struct pmx_nic_offloads *o, const char *ifname, char *err, size_t errlen)
{
	struct features f, now;
	struct pmx_offload_state prev;
	struct iface *ifc;
	unsigned ifindex, n, still = 0;
	int ret, *list;

	ifindex = pmx_name_ok(ifname, IF_NAMESIZE, ".") ? if_nametoindex(ifname) : 0;
	if (ifindex == 0 || o->n == MAX_IFACES) {
		snprintf(err, errlen, "interface \"%s\": cannot manage its offload features: %s",
			 ifname, ifindex == 0 ? "no such interface" : "too many interfaces");
		return ifindex == 0 ? -ENODEV : -ENOSPC;
	}
	ret = features_read(o->fd, ifname, &f);
	if (ret != 0) {
		snprintf(err, errlen, "interface \"%s\": cannot read its offload features: %s",
			 ifname, strerror(-ret));
		return ret;
	}
	list = calloc(f.n, sizeof(*list));
	if (list == NULL) {
		features_free(&f);
		return -ENOMEM;
	}
	ret = plan(&f, ifname, list, &n, err, errlen);
	if (ret != 0)
		goto out;
	ifc = &o->ifc[o->n++]; /* from here on pmx_nic_offloads_destroy() restores it */
	memset(ifc, 0, sizeof(*ifc));
	snprintf(ifc->path, sizeof(ifc->path), "%s/offloads-%s.state", o->dir, ifname);
	snprintf(ifc->st.ifname, sizeof(ifc->st.ifname), "%s", ifname);
	ifc->st.ifindex = ifindex;
	state_read_previous(ifc, ifindex, &prev);
	for (unsigned k = 0; k < prev.n; k++)
		if (feature_index(&f, prev.on[k]) >= 0)
			pmx_offload_state_add(&ifc->st, prev.on[k]);
	ret = turn_off(o, ifc, &f, list, n, err, errlen);
	if (ret != 0 || n == 0)
		goto out;
	/* a driver may take the request and keep the feature in effect anyway */
	ret = features_read(o->fd, ifname, &now);
	if (ret != 0) {
		snprintf(err, errlen, "interface \"%s\": cannot read its offload features: %s",
			 ifname, strerror(-ret));
		goto out;
	}
	for (unsigned k = 0; k < n; k++)
		if (bit(now.get->features[list[k] / 32].active, list[k]))
			list[still++] = list[k];
	if (still > 0) {
		char names[512];

		name_list(&f, list, still, names, sizeof(names));
		snprintf(err, errlen,
			 "interface \"%s\": cannot turn off %s (%s): the driver keeps it on",
			 ifname, names, pmx_nic_offloads_why(f.name[list[0]]));
		ret = -EOPNOTSUPP;
	}
	features_free(&now);
out:
	free(list);
	features_free(&f);
	return ret;
}

/* Turn back on what ifc lists; 0, or the errno that keeps its state file. */
static int restore(struct pmx_nic_offloads *o, const struct iface *ifc)
{
	struct features f;
	int list[PMX_OFFLOAD_STATE_MAX];
	unsigned n = 0;
	char names[512];
	int ret;

	ret = features_read(o->fd, ifc->st.ifname, &f);
	if (ret != 0)
		return ret;
	for (unsigned k = 0; k < ifc->st.n; k++) {
		int i = feature_index(&f, ifc->st.on[k]);

		if (i >= 0)
			list[n++] = i;
		else
			PMX_LOG(WARNING, main, "offloads: %s: this kernel has no feature %s",
				ifc->st.ifname, ifc->st.on[k]);
	}
	ret = features_set(o->fd, ifc->st.ifname, &f, list, n, true);
	name_list(&f, list, n, names, sizeof(names));
	if (ret == 0)
		PMX_LOG(NOTICE, main, "offloads: %s: %s back on", ifc->st.ifname, names);
	features_free(&f);
	return ret;
}

void pmx_nic_offloads_destroy(struct pmx_nic_offloads *o)
{
	if (o == NULL)
		return;
	for (unsigned i = 0; i < o->n; i++) {
		struct iface *ifc = &o->ifc[i];
		int ret = ifc->st.n > 0 ? restore(o, ifc) : 0;

		/* an interface gone took its features with it: nothing left to restore */
		if (ret == 0 || ret == -ENODEV)
			unlink(ifc->path);
		else
			PMX_LOG(WARNING, main,
				"offloads: %s: cannot turn its features back on (%s): they stay "
				"listed in %s for the next start",
				ifc->st.ifname, strerror(-ret), ifc->path);
	}
	close(o->fd);
	free(o);
}
