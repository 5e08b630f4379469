/* cli_print.c - replies printed for operators in dpdk-testpmd's style (banners, aligned counters) */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"

#define BORDER "########################"

/* Integer at a "a.b" path of obj, 0 when absent. */
static uint64_t num(json_t *obj, const char *path)
{
	char key[64];
	const char *dot;

	while ((dot = strchr(path, '.')) != NULL) {
		snprintf(key, sizeof(key), "%.*s", (int)(dot - path), path);
		obj = json_object_get(obj, key);
		path = dot + 1;
	}
	return (uint64_t)json_integer_value(json_object_get(obj, path));
}

static const char *str(json_t *obj, const char *key)
{
	const char *s = json_string_value(json_object_get(obj, key));

	return s != NULL ? s : "";
}

/* "ip:port", IPv6 in brackets; "*" stays "*". */
static const char *endpoint(const char *ip, uint64_t port, char *buf, size_t len)
{
	if (strchr(ip, ':') != NULL)
		snprintf(buf, len, "[%s]:%" PRIu64, ip, port);
	else
		snprintf(buf, len, "%s:%" PRIu64, ip, port);
	return buf;
}

/* "kernel", "drop", "3 (name)", "- (name)" for a config rule whose client is absent. */
static const char *owner_text(json_t *owner, char *buf, size_t len)
{
	if (json_is_string(owner))
		snprintf(buf, len, "%s", json_string_value(owner));
	else if (json_object_get(owner, "client_id") == NULL)
		snprintf(buf, len, "- (%s)", str(owner, "name"));
	else if (json_object_get(owner, "name") != NULL)
		snprintf(buf, len, "%" PRIu64 " (%s)", num(owner, "client_id"), str(owner, "name"));
	else
		snprintf(buf, len, "%" PRIu64, num(owner, "client_id"));
	return buf;
}

void pmx_cli_print_port_stats(int fd, json_t *stats)
{
	json_t *port, *drops = json_object_get(stats, "drops"), *v;
	const char *reason;
	unsigned col = 0;
	size_t i;

	json_array_foreach(json_object_get(stats, "ports"), i, port)
	{
		dprintf(fd, "\n  %s NIC statistics for port %-2" PRIu64 " (%s) %s\n", BORDER,
			num(port, "port"), str(port, "name"), BORDER);
		dprintf(fd,
			"  RX-packets: %-10" PRIu64 " RX-missed: %-10" PRIu64 " RX-bytes:  %" PRIu64
			"\n",
			num(port, "nic.ipackets"), num(port, "nic.imissed"),
			num(port, "nic.ibytes"));
		dprintf(fd, "  RX-errors:  %" PRIu64 "\n", num(port, "nic.ierrors"));
		if (json_is_object(json_object_get(port, "afpacket")))
			dprintf(fd,
				"  af_packet: socket-drops %" PRIu64 " RX-errors %" PRIu64
				" RX-nombuf %" PRIu64 " checksums-completed %" PRIu64
				" super-frames %" PRIu64 " cut-into %" PRIu64 " TX-drops %" PRIu64
				"\n",
				num(port, "afpacket.socket_drops"), num(port, "afpacket.rx_errors"),
				num(port, "afpacket.rx_nombuf"),
				num(port, "afpacket.csum_completed"),
				num(port, "afpacket.gso_superframes"),
				num(port, "afpacket.gso_segments"), num(port, "afpacket.tx_drops"));
		dprintf(fd,
			"  TX-packets: %-10" PRIu64 " TX-errors: %-10" PRIu64 " TX-bytes:  %" PRIu64
			"\n",
			num(port, "nic.opackets"), num(port, "nic.oerrors"),
			num(port, "nic.obytes"));
		if (json_is_object(json_object_get(port, "rates")))
			dprintf(fd,
				"\n  Throughput (since last show)\n"
				"  Rx-pps: %12" PRIu64 "          Rx-bps: %12" PRIu64 "\n"
				"  Tx-pps: %12" PRIu64 "          Tx-bps: %12" PRIu64 "\n",
				num(port, "rates.rx_pps"), num(port, "rates.rx_bps"),
				num(port, "rates.tx_pps"), num(port, "rates.tx_bps"));
		dprintf(fd,
			"\n  Switched:   %-10" PRIu64 " To-clients: %-9" PRIu64
			" To-kernel: %" PRIu64 "\n",
			num(port, "rx"), num(port, "to_clients"), num(port, "to_kernel"));
		dprintf(fd,
			"  From-clients: %-8" PRIu64 " From-kernel: %-8" PRIu64
			" TX-wire:   %" PRIu64 "\n",
			num(port, "from_clients"), num(port, "from_kernel"), num(port, "tx_wire"));
		if (json_is_object(json_object_get(port, "kernel")))
			dprintf(fd,
				"\n  Kernel path %s %s (port %" PRIu64 "): RX-packets: %-10" PRIu64
				" TX-packets: %" PRIu64 "\n",
				str(port, "exception"), str(port, "kernel_iface"),
				num(port, "kernel.ethdev"), num(port, "kernel.ipackets"),
				num(port, "kernel.opackets"));
		dprintf(fd, "  %s%s%s##########\n", BORDER, BORDER, BORDER);
	}
	dprintf(fd, "\n  %s Drops, all ports and lcores %s\n", BORDER, BORDER);
	json_object_foreach(drops, reason, v)
	{
		dprintf(fd, "%s%-13s %-10" PRIu64, col % 3 ? " " : "  ", reason,
			(uint64_t)json_integer_value(v));
		if (++col % 3 == 0)
			dprintf(fd, "\n");
	}
	dprintf(fd,
		"%s  Kernel policy: %s   Rules: %" PRIu64 "/%" PRIu64 "   Mbufs in use: %" PRIu64
		"/%" PRIu64 "\n",
		col % 3 ? "\n" : "", str(stats, "kernel_policy"), num(stats, "flow_table.rules"),
		num(stats, "flow_table.capacity"), num(stats, "mempool.in_use"),
		num(stats, "mempool.size"));
	dprintf(fd, "  %s%s%s##########\n", BORDER, BORDER, BORDER);
}

void pmx_cli_print_port_info(int fd, json_t *info)
{
	json_t *link = json_object_get(info, "link"), *exc = json_object_get(info, "exception"), *a;
	size_t i;

	dprintf(fd,
		"\n  ********************* Infos for port %-2" PRIu64
		" (%s) *********************\n",
		num(info, "port"), str(info, "name"));
	dprintf(fd, "  MAC address: %s\n", str(info, "mac"));
	dprintf(fd, "  Device: %s\n", str(info, "device"));
	dprintf(fd, "  Driver name: %s\n", str(info, "driver"));
	if (link != NULL) {
		dprintf(fd, "  Link status: %s\n",
			json_is_true(json_object_get(link, "up")) ? "up" : "down");
		dprintf(fd, "  Link speed: %" PRIu64 " Mbps\n", num(link, "speed_mbps"));
		dprintf(fd, "  Link duplex: %s-duplex\n", str(link, "duplex"));
	}
	dprintf(fd, "  RX queues: %" PRIu64 " (one per RX lcore)\n", num(info, "rx_queues"));
	if (json_is_integer(json_object_get(exc, "ethdev")))
		dprintf(fd, "  Kernel path: %s %s (port %" PRIu64 ")\n", str(exc, "kind"),
			str(exc, "iface"), num(exc, "ethdev"));
	else
		dprintf(fd, "  Kernel path: %s\n", str(exc, "kind"));
	dprintf(fd, "  Addresses:");
	json_array_foreach(json_object_get(info, "addresses"), i, a)
		dprintf(fd, " %s", json_string_value(a));
	dprintf(fd, "%s\n", json_array_size(json_object_get(info, "addresses")) ? "" : " (none)");
	dprintf(fd, "  Flow offload: %s\n", str(info, "flow_offload"));
	dprintf(fd, "  Clients: %" PRIu64 "\n", num(info, "clients"));
}

void pmx_cli_print_clients(int fd, json_t *result)
{
	json_t *clients = json_object_get(result, "clients"), *c;
	size_t i;

	dprintf(fd, "  %-4s %-16s %7s %6s %-8s %5s %6s %12s %10s %12s %8s %7s\n", "ID", "NAME",
		"PID", "UID", "PORT", "LCORE", "RULES", "RX", "RING-FULL", "TX", "SPOOFED",
		"QUEUED");
	json_array_foreach(clients, i, c) dprintf(
		fd,
		"  %-4" PRIu64 " %-16.16s %7" PRIu64 " %6" PRIu64 " %-8.8s %5" PRIu64 " %6" PRIu64
		" %12" PRIu64 " %10" PRIu64 " %12" PRIu64 " %8" PRIu64 " %7" PRIu64 "\n",
		num(c, "client_id"), str(c, "name"), num(c, "pid"), num(c, "uid"), str(c, "port"),
		num(c, "lcore"), num(c, "rules"), num(c, "rx"), num(c, "ring_full"), num(c, "tx"),
		num(c, "spoofed"), num(c, "rx_ring_count"));
	dprintf(fd, "  %zu client(s)\n", json_array_size(clients));
}

/* Nanoseconds as "812 ns", "4.31 us", "1.20 ms". */
static const char *ns_text(uint64_t ns, char *buf, size_t len)
{
	if (ns < 1000)
		snprintf(buf, len, "%" PRIu64 " ns", ns);
	else if (ns < 1000000)
		snprintf(buf, len, "%.2f us", ns / 1e3);
	else
		snprintf(buf, len, "%.2f ms", ns / 1e6);
	return buf;
}

void pmx_cli_print_latency(int fd, json_t *stats)
{
	json_t *clients = json_object_get(stats, "clients"), *c;
	char p50[24], p99[24], max[24];
	size_t i;

	dprintf(fd, "  latency: NIC RX burst -> the client's dequeue (memif: the copy into its "
		    "ring)\n");
	dprintf(fd, "  %-4s %-16s %-7s %12s %10s %10s %10s\n", "ID", "NAME", "CHANNEL", "SAMPLES",
		"P50", "P99", "MAX");
	json_array_foreach(clients, i, c)
	{
		json_t *lat = json_object_get(c, "latency");

		if (num(lat, "samples") == 0) {
			dprintf(fd, "  %-4" PRIu64 " %-16.16s %-7s %12d %10s %10s %10s\n",
				num(c, "client_id"), str(c, "name"), str(c, "channel"), 0, "-", "-",
				"-");
			continue;
		}
		dprintf(fd, "  %-4" PRIu64 " %-16.16s %-7s %12" PRIu64 " %10s %10s %10s\n",
			num(c, "client_id"), str(c, "name"), str(c, "channel"), num(lat, "samples"),
			ns_text(num(lat, "p50_ns"), p50, sizeof(p50)),
			ns_text(num(lat, "p99_ns"), p99, sizeof(p99)),
			ns_text(num(lat, "max_ns"), max, sizeof(max)));
	}
	dprintf(fd, "  %zu client(s)\n", json_array_size(clients));
}

void pmx_cli_print_rules(int fd, json_t *result)
{
	json_t *rules = json_object_get(result, "rules"), *r;
	char local[64], remote[64], owner[48];
	size_t i;

	dprintf(fd, "  %-7s %-8s %-6s %-7s %-28s %-28s %-20s %-8s %s\n", "ID", "KIND", "PORT",
		"PROTO", "LOCAL", "REMOTE", "OWNER", "ORIGIN", "HITS");
	json_array_foreach(rules, i, r)
	{
		/* an address without a port where the rule has none: ip and proto rules every
		 * local port, peer and proto rules every remote one */
		if (json_object_get(r, "local_port") == NULL)
			snprintf(local, sizeof(local), "%s", str(r, "local_ip"));
		else
			endpoint(str(r, "local_ip"), num(r, "local_port"), local, sizeof(local));
		if (json_object_get(r, "remote_port") != NULL)
			endpoint(str(r, "remote_ip"), num(r, "remote_port"), remote,
				 sizeof(remote));
		else if (json_object_get(r, "remote_ip") != NULL)
			snprintf(remote, sizeof(remote), "%s", str(r, "remote_ip"));
		else
			snprintf(remote, sizeof(remote), "-");
		dprintf(fd, "  %-7" PRIu64 " %-8s %-6.6s %-7s %-28s %-28s %-20s %-8s %" PRIu64 "\n",
			num(r, "rule_id"), str(r, "kind"), str(r, "port"),
			json_object_get(r, "proto") ? str(r, "proto") : "-", local, remote,
			owner_text(json_object_get(r, "owner"), owner, sizeof(owner)),
			str(r, "origin"), num(r, "hits"));
	}
	dprintf(fd, "  %zu rule(s)\n", json_array_size(rules));
}

void pmx_cli_print_lcores(int fd, json_t *stats)
{
	json_t *lc, *v;
	const char *reason;
	size_t i;

	dprintf(fd, "  lcore %-3" PRIu64 " management: control socket, prompt, telemetry, timers\n",
		num(stats, "management_lcore"));
	json_array_foreach(json_object_get(stats, "lcores"), i, lc)
	{
		uint64_t loops = num(lc, "loops"), busy = num(lc, "busy_loops"), drops = 0;
		uint64_t rx = num(lc, "rx"), cycles = num(lc, "busy_cycles");

		json_object_foreach(json_object_get(lc, "drops"), reason, v)
			drops += (uint64_t)json_integer_value(v);
		dprintf(fd,
			"  lcore %-3" PRIu64 " RX worker %-2" PRIu64 ": loops %-12" PRIu64
			" busy %5.1f%%   rx %-12" PRIu64 " %6.0f cycles/frame   drops %" PRIu64
			"\n",
			num(lc, "lcore"), num(lc, "worker"), loops,
			loops ? 100.0 * (double)busy / (double)loops : 0.0, rx,
			rx ? (double)cycles / (double)rx : 0.0, drops);
	}
}

void pmx_cli_print_used_ports(int fd, json_t *result)
{
	char local[64], remote[64], owner[48];
	json_t *e;
	size_t i;

	dprintf(fd, "  %-7s %-30s %-30s %-12s %s\n", "PROTO", "LOCAL", "REMOTE", "STATE", "OWNER");
	json_array_foreach(json_object_get(result, "listening"), i, e)
		dprintf(fd, "  %-7s %-30s %-30s %-12s %s\n", str(e, "proto"),
			endpoint(str(e, "ip"), num(e, "port"), local, sizeof(local)), "-", "listen",
			owner_text(json_object_get(e, "owner"), owner, sizeof(owner)));
	json_array_foreach(json_object_get(result, "connected"), i, e) dprintf(
		fd, "  %-7s %-30s %-30s %-12s %s\n", str(e, "proto"),
		endpoint(str(e, "local_ip"), num(e, "local_port"), local, sizeof(local)),
		endpoint(str(e, "remote_ip"), num(e, "remote_port"), remote, sizeof(remote)),
		str(e, "state"), owner_text(json_object_get(e, "owner"), owner, sizeof(owner)));
	json_array_foreach(json_object_get(result, "ips"), i, e)
		dprintf(fd, "  %-7s %-30s %-30s %-12s %s\n", "ip", str(e, "ip"), "-", "claimed",
			owner_text(json_object_get(e, "owner"), owner, sizeof(owner)));
}
