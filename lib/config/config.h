/* SPDX-License-Identifier: BSD-3-Clause */
/**
 * @file
 * config.h - the portmuxd configuration file (JSON, DESIGN.md §4) as a C struct.
 *
 * Loading is strict: unknown keys, wrong types and impossible values are errors whose
 * message names the key path (e.g. "ports[0].rx_queues: must be 1..16").
 */
#ifndef PMX_CONFIG_H
#define PMX_CONFIG_H

#include <stddef.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "pmx_packet.h"

#define PMX_MAX_PORTS 8
#define PMX_MAX_CONFIG_RULES 128
#define PMX_MAX_ALLOW 64
#define PMX_MAX_ADDRS 16
#define PMX_NAME_LEN 32
#define PMX_DEVARGS_LEN 512
#define PMX_IFNAME_LEN 16 /* IFNAMSIZ */
#define PMX_USNETD_SOCKET "/run/usnetd.socket" /**< the path usnetd's clients hard-code */
#define PMX_METRICS_HOST_LEN 46 /* INET6_ADDRSTRLEN */

enum pmx_exception_type {
	PMX_EXC_AUTO = 0,    /**< virtio_user when /dev/vhost-net exists, else tap */
	PMX_EXC_TAP,         /**< net_tap PMD */
	PMX_EXC_VIRTIO_USER, /**< net_virtio_user over vhost-kernel */
	PMX_EXC_DEVICE,      /**< any ethdev string (tests: net_pcap, net_ring) */
	PMX_EXC_NONE,        /**< no kernel path: unmatched traffic is dropped (no_route) */
};

enum pmx_kernel_policy {
	PMX_POLICY_PASS = 0, /**< unmatched traffic goes to the kernel */
	PMX_POLICY_FIREWALL, /**< the default: only replies, allow list, ARP/ND/DHCP reach it */
};

/** One "proto[:port[-port]]" entry ("tcp:22", "udp:1000-2000", "icmp"). */
struct pmx_proto_port {
	uint8_t proto;      /**< IP protocol number */
	uint16_t port_lo;   /**< host order; 0 with port_hi 0 = all ports ("tcp") */
	uint16_t port_hi;
};

struct pmx_port_conf {
	char name[PMX_NAME_LEN];        /**< "wan0": 1..31 of [A-Za-z0-9_-], unique */
	char device[PMX_DEVARGS_LEN];   /**< ethdev/vdev string, "net_af_packet0,iface=x" */
	uint16_t rx_queues;             /**< 1..16; 0 (the default, "rx_queues" absent): one
					  *  per RX lcore, filled in by portmuxd after EAL init */
	bool dpdk_driver;               /**< "driver": "dpdk": a kernel interface through DPDK's
					  *  net_af_packet; default ("portmux"): lib/afpacket */
	enum pmx_exception_type exc_type;
	char exc_iface[PMX_IFNAME_LEN]; /**< kernel interface name, default "pmx<N>";
					  *  [A-Za-z0-9_.-]; unique unless exc_type is NONE */
	char exc_device[PMX_DEVARGS_LEN]; /**< for PMX_EXC_DEVICE ("" otherwise) */
	unsigned n_addresses;           /**< optional fixed addresses; else learned from exc_iface */
	uint8_t addresses[PMX_MAX_ADDRS][16]; /**< IPv4-mapped or IPv6, network order;
					       *  unicast (not 0, multicast, broadcast), distinct */
};

/** One of the config file's "rules": a rule that exists from start-up, for the client that
 *  attaches with the name `owner` (usnetd's static pipes). */
struct pmx_config_rule {
	struct pmx_flow_key key;  /**< kind listen, connect or ip; port_id = index into ports */
	char owner[PMX_NAME_LEN]; /**< the client's hello "name": 1..31 of [A-Za-z0-9_.-] */
};

struct pmx_config {
	int eal_argc;
	char **eal_argv; /**< owned; eal_argv[0] is the program name; eal_argv[eal_argc] is NULL.
			  *  rte_eal_init() reorders and overwrites entries: give it a copy of
			  *  the pointer array, or pmx_config_free() frees the wrong strings. */
	unsigned n_ports;
	struct pmx_port_conf ports[PMX_MAX_PORTS];
	enum pmx_kernel_policy policy;
	unsigned n_allow;
	struct pmx_proto_port allow[PMX_MAX_ALLOW];
	char socket_path[108];  /**< sun_path, default /run/portmux/portmux.sock */
	uint32_t socket_mode;   /**< default 0660; JSON octal string ("0660"), <= 0777 */
	char socket_group[PMX_NAME_LEN]; /**< "" = none (null in JSON) */
	bool usnetd;            /**< usnetd's datagram control socket is open ("usnetd" given,
				  *  lib/control/usnetd_sock.c); default off */
	char usnetd_socket[108]; /**< its path, default PMX_USNETD_SOCKET */
	uint32_t usnetd_mode;   /**< as socket_mode, default 0660 */
	char usnetd_group[PMX_NAME_LEN]; /**< as socket_group: the file's group, "" = none */
	bool usnetd_own_macs; /**< a usnetd client may send from a MAC of its own, learned from
			       *  its first frame (lib/control/mac_learn.c, within
			       *  client_own_macs); default false: refused, with a log line */
	uint32_t clients_max;   /**< 1..256, default 64 */
	uint32_t ring_size;     /**< power of two 64..65536, default 1024 */
	uint32_t max_rules;     /**< 16..1048576, default 4096 */
	uint32_t client_rule_quota;  /**< rules per client, 1..max_rules, default 1024 (or
				      *  max_rules when that is smaller) */
	uint32_t client_queue_quota; /**< queue pairs per client, default 4 */
	uint32_t client_own_macs;    /**< clients with a MAC of their own at a time (operators'
				    *  hello "mac"), 0..clients_max, default 4 (or clients_max
				    *  when that is smaller); 0 = none */
	bool memif;             /**< clients may attach over memif (default false; portmux is the
				  *  memif server, lib/control/memif_server.c, docs/SECURITY.md) */
	unsigned n_low_ports;   /**< ports < 1024 non-root clients may own ("tcp:80",
				  *  "udp:67-68": a port is required, ranges within 1..1023) */
	struct pmx_proto_port low_ports[PMX_MAX_ALLOW];
	uint32_t mbufs;         /**< 1024..4194304, default 32768 */
	char mbuf_pool[32];     /**< mempool driver of the mbuf pool, default "stack" (LIFO:
				  *  the mbufs freed last, still in cache, are reused first) */
	unsigned n_rules;       /**< static rules (config_rules.c): no two alike, none
				  *  overlapping a rule of another owner */
	struct pmx_config_rule rules[PMX_MAX_CONFIG_RULES];
	/* "metrics": the Prometheus endpoint (config_metrics.c); off unless set */
	char metrics_listen[64]; /**< "listen" as written: "127.0.0.1:9273", "[::1]:9273"; "" off */
	char metrics_host[PMX_METRICS_HOST_LEN]; /**< its numeric address (IPv6 without []) */
	uint16_t metrics_port;   /**< its port, 1..65535; 0 = off */
};

/**
 * Parse configuration text. Not thread-safe with respect to `out`.
 * @param argv0 program name put in eal_argv[0] ("portmuxd" when NULL).
 * @param err buffer for a message naming the offending key (may be NULL).
 * @return 0, or -EINVAL (err filled), or -ENOMEM; on error `out` is zeroed and holds
 *  nothing to free.
 */
int pmx_config_parse(const char *text, const char *argv0, struct pmx_config *out, char *err,
		     size_t errlen);

/** Same as pmx_config_parse() on a file; -ENOENT/-EACCES/-EISDIR/... when unreadable.
 *  Every message in err starts with "PATH: ". */
int pmx_config_load(const char *path, const char *argv0, struct pmx_config *out, char *err,
		    size_t errlen);

/** Append copies of EAL arguments (from the command line after "--"). 0, -ENOMEM (cfg
 *  unchanged) or -EINVAL (cfg NULL, argc < 0, argv NULL with argc > 0). */
int pmx_config_append_eal(struct pmx_config *cfg, int argc, char **argv);

/**
 * Write each port's PCI address once: give EAL the allow-list entry ("-a DEVICE", devargs
 * included, as dpdk-testpmd users write it) of every port whose device is a PCI address
 * ("0000:03:00.0" or "03:00.0", devargs after a comma), unless the EAL arguments already
 * decide about that device: --no-pci (no PCI bus: nothing added), an -a/--allow entry for the
 * same address (kept, with its own devargs), or any -b/--block entry (EAL refuses -a beside
 * -b and probes every device not blocked). The entries go right after eal_argv[0], in the
 * order of the ports, before any "--". Call after pmx_config_append_eal(). Not thread-safe with respect to cfg.
 * @return 0; -EINVAL (cfg NULL, or err filled: a port's PCI device is blocked by -b);
 *  -ENOMEM (the entries of earlier ports may have been added; cfg stays valid to free).
 */
int pmx_config_eal_allow_pci(struct pmx_config *cfg, char *err, size_t errlen);

/** Free what a loaded config owns and zero *cfg, so a second call does nothing. Accepts NULL. */
void pmx_config_free(struct pmx_config *cfg);

/** Parse "tcp:22", "udp:1000-2000", "icmp" into pp. 0 or -EINVAL (pp untouched).
 *  Ports are 1..65535 with lo <= hi and only for tcp, udp, sctp, udplite, dccp. */
int pmx_proto_port_parse(const char *s, struct pmx_proto_port *pp);

/** Parse a protocol name ("tcp", "udp", "sctp", "udplite", "dccp", "icmp", "icmpv6",
 *  any case) or decimal number 0..255. Returns the protocol number or -EINVAL. */
int pmx_proto_parse(const char *s);

/**
 * Is s a name of 1..max-1 characters from [A-Za-z0-9_-] and those in extra (port names "",
 * interface and client names ".")? Thread-safe (pure).
 */
static inline bool pmx_name_ok(const char *s, size_t max, const char *extra)
{
	size_t len = strlen(s);

	if (len == 0 || len >= max)
		return false;
	for (size_t i = 0; i < len; i++) {
		if ((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z') ||
		    (s[i] >= '0' && s[i] <= '9') || s[i] == '_' || s[i] == '-')
			continue;
		if (strchr(extra, s[i]) == NULL)
			return false;
	}
	return true;
}

#endif
