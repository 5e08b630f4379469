/* SPDX-License-Identifier: BSD-3-Clause */
/**
 * @file
 * nic_offloads.h - the offload features of a NIC port that is still a kernel netdev
 * (net_af_packet, net_pcap on an interface, net_af_xdp): while portmuxd runs, nothing merges
 * frames before its packet socket reads them (GRO, hardware GRO, LRO, GRO lists, UDP GRO
 * forwarding, and any rx-*gro* / rx-*lro* feature a newer kernel adds) and no frame arrives
 * with its FCS appended (rx-fcs); the switch sees wire frames only.
 *
 * Mechanism: the ethtool ioctl (SIOCETHTOOL: ETHTOOL_GSSET_INFO and ETHTOOL_GSTRINGS for the
 * names of ETH_SS_FEATURES, ETHTOOL_GFEATURES, ETHTOOL_SFEATURES). Every feature turned off is
 * logged and turned back on at a clean exit and on a failed start.
 *
 * A crash (SIGKILL) leaves the features off, and the next start would find nothing to change.
 * So before it changes anything portmuxd writes a state file next to its control socket,
 * "<socket's directory>/offloads-<iface>.state", listing the features the operator had on;
 * it removes the file once they are back on. A start that finds the file (same interface name
 * and index) keeps what it lists and adds what it turns off itself, so the next clean exit
 * restores what the operator had before the crash. A file of an interface since recreated
 * (another index) or unreadable is ignored and replaced, with a notice.
 */
#ifndef PMX_NIC_OFFLOADS_H
#define PMX_NIC_OFFLOADS_H

#include <net/if.h>
#include <stdbool.h>
#include <stddef.h>

/** Longest feature name (ETH_GSTRING_LEN, with its NUL). */
#define PMX_OFFLOAD_NAME_LEN 32
/** Features one state file may list. */
#define PMX_OFFLOAD_STATE_MAX 16

/** What portmuxd does with one feature of the interface (pmx_nic_offloads_decide()). */
enum pmx_offload_action {
	PMX_OFFLOAD_KEEP,     /**< not one of ours, or off already */
	PMX_OFFLOAD_TURN_OFF, /**< on (requested or active) and changeable */
	PMX_OFFLOAD_FIXED,    /**< on and the driver does not let it be changed */
};

/** The features a state file lists: those portmuxd turned off that the operator had on. */
struct pmx_offload_state {
	char ifname[IF_NAMESIZE];
	unsigned ifindex;
	unsigned n;
	char on[PMX_OFFLOAD_STATE_MAX][PMX_OFFLOAD_NAME_LEN];
};

/** The offload state of every NIC port of one daemon. Owned by the management lcore. */
struct pmx_nic_offloads;

/**
 * Is the kernel feature `name` (an ETH_SS_FEATURES string) one that keeps the packet socket
 * from seeing wire frames? Thread-safe (pure).
 * @return a short reason (for the log and errors), or NULL when it is not.
 */
const char *pmx_nic_offloads_why(const char *name);

/**
 * What to do with feature `name`, given its bits as ETHTOOL_GFEATURES reports them
 * (available: changeable, not "[fixed]"; requested: asked for; active: in effect).
 * Thread-safe (pure).
 */
enum pmx_offload_action pmx_nic_offloads_decide(const char *name, bool available, bool requested,
						bool active);

/**
 * Add feature name to st's list, once. Thread-safe (on distinct st).
 * @return 0 (also when listed already); -EINVAL (not a feature name: empty, too long, or
 *  characters outside [a-z0-9_-]); -ENOSPC (list full).
 */
int pmx_offload_state_add(struct pmx_offload_state *st, const char *name);

/**
 * Write st as the text of a state file into buf. Thread-safe (pure).
 * @return 0; -EINVAL (st's interface name invalid); -ENOSPC (buf too small).
 */
int pmx_offload_state_format(const struct pmx_offload_state *st, char *buf, size_t len);

/**
 * Read the text of a state file into st (overwritten; unchanged on failure). Thread-safe.
 * @return 0; -EINVAL (a line that is not "# ...", "iface NAME", "ifindex N" or "on FEATURE",
 *  a bad name or number, iface or ifindex missing or given twice); -ENOSPC (too many features).
 */
int pmx_offload_state_parse(const char *text, struct pmx_offload_state *st);

/**
 * Does a state file read as prev describe interface ifname as it is now (index ifindex), so
 * that its features are still the operator's? Thread-safe (pure).
 */
bool pmx_offload_state_applies(const struct pmx_offload_state *prev, const char *ifname,
			       unsigned ifindex);

/**
 * Create an empty set; state files go into the directory of ctl_socket (the control socket's
 * path: the daemon's run directory, created if missing). Not thread-safe.
 * @return the set, or NULL (errno: ENOMEM; or socket()'s errno).
 */
struct pmx_nic_offloads *pmx_nic_offloads_create(const char *ctl_socket);

/**
 * Turn off every feature of interface ifname that pmx_nic_offloads_why() names, logging each,
 * after recording the operator's values in its state file. Not thread-safe.
 * @return 0; or, with err naming the interface (and the features): -ENODEV (no such
 *  interface, or a bad name), -ENOSPC (too many interfaces), -EPERM (no CAP_NET_ADMIN),
 *  -EOPNOTSUPP (the driver keeps a feature on), -ENOMEM, or another negative errno of the
 *  ioctl. What was changed before a failure is restored by pmx_nic_offloads_destroy().
 */
int pmx_nic_offloads_take(struct pmx_nic_offloads *o, const char *ifname, char *err, size_t errlen);

/**
 * Turn back on what the set turned off (and what a crashed run's state file listed), remove
 * the state files, free the set. A state file is kept (with a warning) when its features
 * could not be restored, unless the interface is gone. Accepts NULL. Not thread-safe.
 */
void pmx_nic_offloads_destroy(struct pmx_nic_offloads *o);

#endif
