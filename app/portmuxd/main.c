/* main.c - portmuxd: load the config, start EAL, ports and RX lcores, serve the control socket */
#include <errno.h>
#include <getopt.h>
#include <glob.h>
#include <libgen.h>
#include <mntent.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <rte_cycles.h>
#include <rte_eal.h>
#include <rte_ethdev.h>
#include <rte_lcore.h>
#include <rte_malloc.h>
#include <rte_mbuf.h>
#include <rte_memzone.h>
#include <rte_pdump.h>

#include "client_registry.h"
#include "config.h"
#include "config_show.h"
#include "ctl.h"
#include "latency.h"
#include "mbuf_home.h"
#include "memif_server.h"
#include "pmx_log.h"
#include "port_setup.h"
#include "prompt.h"
#include "sd_service.h"
#include "wire_guard.h"

/* at a clean stop, how long ring clients get to let go of the shared memory */
#define RING_CLIENTS_GONE_MS 1000

static volatile sig_atomic_t stop_requested;

static void on_signal(int sig)
{
	(void)sig;
	stop_requested = 1;
}

/* the --help text; the man page portmuxd(8) is made from it (help2man, app/meson.build) */
static void usage(FILE *f)
{
	fputs("Usage: portmuxd -c FILE [-i] [-- EAL-ARGS...]\n"
	      "  or:  portmuxd --check-config FILE [-- EAL-ARGS...]\n"
	      "Share one NIC between userspace network stacks (clients of libportmux-client) and\n"
	      "the kernel: frames of the connections and ports a client owns go to its rings,\n"
	      "everything else to the kernel's interface of the port.\n"
	      "\n"
	      "Options:\n"
	      "  -c, --config FILE        run the switch configured by FILE (JSON, e.g.\n"
	      "                           /etc/portmux/portmux.json)\n"
	      "  -i, --interactive        a command prompt on stdin (portmux-ctl's commands)\n"
	      "      --check-config FILE  load and validate FILE, print the effective\n"
	      "                           configuration (JSON, defaults filled in) on stdout and\n"
	      "                           exit: 0 when valid, 1 when not; EAL does not start (no\n"
	      "                           hugepages, no NIC is touched)\n"
	      "  -h, --help               print this help and exit\n"
	      "  -V, --version            print the version and exit\n"
	      "\n"
	      "EAL-ARGS after \"--\" are appended to the configuration's \"eal\".\n"
	      "portmuxd prints \"ready\" once its ports, RX lcores and control socket are up.\n"
	      "SIGTERM or SIGINT stops it cleanly: clients are told, lcores stopped, ports freed.\n"
	      "\n"
	      "Environment:\n"
	      "  NOTIFY_SOCKET    systemd's notification socket: READY=1 when ready,\n"
	      "                   STOPPING=1 at a stop, STATUS= lines (Type=notify)\n"
	      "  WATCHDOG_USEC    systemd's watchdog (WatchdogSec=): keep-alives at half the\n"
	      "                   interval, sent only while every RX lcore makes progress\n"
	      "  JOURNAL_STREAM   when it names stderr, log lines go to stderr once each with\n"
	      "                   their priority (<N>), not to stderr and syslog\n"
	      "\n"
	      "Exit status:\n"
	      "  0  a clean stop, or --check-config found the file valid\n"
	      "  1  the configuration is invalid or start-up failed (the message names the key)\n"
	      "  2  bad command line\n"
	      "\n"
	      "Files:\n"
	      "  /etc/portmux/portmux.json        the configuration of the systemd unit\n"
	      "  /run/portmux/portmux.sock        the control socket (control.socket)\n",
	      f);
}

/* The daemon's state, built by the ordered init steps below. */
struct daemon {
	struct pmx_config cfg;
	struct pmx_switch sw;
	struct pmx_ctl ctl;
	struct pmx_sd_service sd; /* systemd: readiness, status, watchdog */
	bool interactive;
	char err[512];
};

static int switch_init(struct daemon *d)
{
	struct pmx_switch *sw = &d->sw;
	const struct rte_memzone *mz;
	unsigned lcore, max_lcore = 0, w = 0;

	sw->cfg = &d->cfg;
	sw->kernel_policy = d->cfg.policy;
	sw->n_workers = rte_lcore_count() - 1;
	if (sw->n_workers == 0) {
		snprintf(d->err, sizeof(d->err),
			 "eal: need two lcores or more (-l): one for management, the rest for RX");
		return -EINVAL;
	}
	for (unsigned p = 0; p < d->cfg.n_ports; p++) {
		if (d->cfg.ports[p].rx_queues == 0) /* not set: one per RX lcore */
			d->cfg.ports[p].rx_queues = (uint16_t)sw->n_workers;
		if (d->cfg.ports[p].rx_queues != sw->n_workers) {
			snprintf(d->err, sizeof(d->err),
				 "ports[%u].rx_queues: %u, but EAL gives %u RX lcore(s); each RX "
				 "lcore owns one queue",
				 p, d->cfg.ports[p].rx_queues, sw->n_workers);
			return -EINVAL;
		}
	}
	RTE_LCORE_FOREACH(lcore)
		max_lcore = lcore;
	sw->client_lcore_base = max_lcore + 1;
	sw->clients_max = d->cfg.clients_max;
	if (sw->client_lcore_base + sw->clients_max > RTE_MAX_LCORE) {
		snprintf(d->err, sizeof(d->err),
			 "clients.max: %u clients need lcore ids %u..%u, above RTE_MAX_LCORE %u",
			 sw->clients_max, sw->client_lcore_base,
			 sw->client_lcore_base + sw->clients_max - 1, RTE_MAX_LCORE);
		return -EINVAL;
	}

	sw->pool = rte_pktmbuf_pool_create_by_ops(PMX_POOL_NAME, d->cfg.mbufs, 256, 0,
						  RTE_MBUF_DEFAULT_BUF_SIZE, rte_socket_id(),
						  d->cfg.mbuf_pool);
	if (sw->pool == NULL && rte_errno == EINVAL) {
		snprintf(d->err, sizeof(d->err), "mbuf_pool: no mempool driver \"%s\" in this DPDK",
			 d->cfg.mbuf_pool);
		return -EINVAL;
	}
	if (sw->pool == NULL) {
		snprintf(d->err, sizeof(d->err), "mbufs: cannot create a pool of %u: %s",
			 d->cfg.mbufs, rte_strerror(rte_errno));
		return -ENOMEM;
	}
	sw->ft = pmx_flow_table_create("pmx_flows", d->cfg.max_rules, sw->n_workers,
				       rte_socket_id());
	sw->clients = rte_zmalloc("pmx_clients", sizeof(*sw->clients) * sw->clients_max,
				  RTE_CACHE_LINE_SIZE);
	mz = rte_memzone_reserve(PMX_SHM_MZ_NAME, sizeof(struct pmx_shm), rte_socket_id(), 0);
	if (sw->ft == NULL || sw->clients == NULL || mz == NULL) {
		snprintf(d->err, sizeof(d->err), "clients.max_rules: cannot allocate the flow "
						 "table and client slots: %s",
			 rte_strerror(rte_errno));
		return -ENOMEM;
	}
	pmx_dp_policy_set(sw, d->cfg.allow, d->cfg.n_allow); /* n_allow <= PMX_MAX_ALLOW */
	sw->shm = mz->addr;
	memset(sw->shm, 0, sizeof(*sw->shm));
	sw->shm->clients_max = sw->clients_max;
	sw->shm->ring_size = d->cfg.ring_size;
	sw->shm->daemon_pid = (uint64_t)getpid();
	sw->shm->version = PMX_SHM_VERSION;
	if (pmx_latency_init(sw) != 0) {
		snprintf(d->err, sizeof(d->err),
			 "clients.max: cannot allocate the latency histograms: %s",
			 rte_strerror(rte_errno));
		return -ENOMEM;
	}
	__atomic_store_n(&sw->shm->magic, PMX_SHM_MAGIC, __ATOMIC_RELEASE);

	RTE_LCORE_FOREACH_WORKER(lcore) {
		struct pmx_worker *wk = rte_zmalloc("pmx_worker", sizeof(*wk), RTE_CACHE_LINE_SIZE);

		if (wk == NULL)
			return -ENOMEM;
		wk->client = rte_zmalloc("pmx_worker_clients",
					 sizeof(*wk->client) * sw->clients_max, RTE_CACHE_LINE_SIZE);
		if (wk->client == NULL)
			return -ENOMEM;
		wk->id = w;
		wk->lcore_id = lcore;
		wk->sw = sw;
		sw->workers[w++] = wk;
		if (pmx_worker_init(wk) != 0) {
			snprintf(d->err, sizeof(d->err), "eal: cannot create the tables of RX lcore %u",
				 lcore);
			rte_free(wk->client);
			rte_free(wk);
			sw->workers[--w] = NULL;
			return -ENOMEM;
		}
	}
	return 0;
}

static void switch_fini(struct daemon *d)
{
	struct pmx_switch *sw = &d->sw;

	pmx_registry_free_all(sw);
	pmx_ports_close(sw);
	for (unsigned w = 0; w < sw->n_workers; w++) {
		if (sw->workers[w] != NULL) {
			pmx_worker_fini(sw->workers[w]);
			rte_free(sw->workers[w]->client);
		}
		rte_free(sw->workers[w]);
	}
	rte_free(sw->clients);
	pmx_flow_table_destroy(sw->ft);
	rte_mempool_free(sw->pool);
	pmx_latency_fini(sw);
	rte_memzone_free(rte_memzone_lookup(PMX_SHM_MZ_NAME));
}

static int ctl_init(struct daemon *d)
{
	char rundir[PATH_MAX];
	int ret = pmx_ctl_init(&d->ctl, &d->sw, &d->cfg, d->err, sizeof(d->err));

	snprintf(rundir, sizeof(rundir), "%s", rte_eal_get_runtime_dir());
	snprintf(d->ctl.file_prefix, sizeof(d->ctl.file_prefix), "%s", basename(rundir));
	return ret;
}

static void print_banner(const struct daemon *d)
{
	printf("portmuxd %s: %u RX lcore(s), control socket %s\n", PMX_VERSION, d->sw.n_workers,
	       d->cfg.socket_path);
	for (unsigned p = 0; p < d->sw.n_ports; p++) {
		const struct pmx_port *port = &d->sw.ports[p];
		char mac[RTE_ETHER_ADDR_FMT_SIZE];

		rte_ether_format_addr(mac, sizeof(mac), &port->mac);
		printf("port %u %s: %s mac %s, kernel path %s %s\n", p, port->name,
		       d->cfg.ports[p].device, mac, port->exc_kind, port->exc_iface);
	}
	for (unsigned i = 0; i < pmx_wire_guard_count(d->sw.wire_guard); i++)
		printf("wire %s: the kernel is kept off it (nftables table netdev portmux_%s)\n",
		       pmx_wire_guard_iface(d->sw.wire_guard, i),
		       pmx_wire_guard_iface(d->sw.wire_guard, i));
	printf("ready\n");
	fflush(stdout);
}

/* At exit, remove what EAL leaves on disk for this file-prefix: the hugepage files of memory
 * DPDK never frees (the ethdev data memzone) and the runtime directory. A client still attached
 * keeps its mappings (unlinked files stay mapped); nothing can attach any more. */
static void remove_eal_files(const char *rundir)
{
	const char *prefix = strrchr(rundir, '/') ? strrchr(rundir, '/') + 1 : rundir;
	FILE *mounts = setmntent("/proc/mounts", "r");
	char pattern[PATH_MAX];
	struct mntent *m;
	glob_t g = {0}; /* globfree() takes it with nothing found */

	while (mounts != NULL && (m = getmntent(mounts)) != NULL) {
		if (strcmp(m->mnt_type, "hugetlbfs") != 0 ||
		    snprintf(pattern, sizeof(pattern), "%s/%smap_*", m->mnt_dir, prefix) >=
			    (int)sizeof(pattern))
			continue;
		if (glob(pattern, 0, NULL, &g) == 0)
			for (size_t i = 0; i < g.gl_pathc; i++)
				unlink(g.gl_pathv[i]);
		globfree(&g);
	}
	if (mounts != NULL)
		endmntent(mounts);
	if (snprintf(pattern, sizeof(pattern), "%s/*", rundir) < (int)sizeof(pattern) &&
	    glob(pattern, 0, NULL, &g) == 0)
		for (size_t i = 0; i < g.gl_pathc; i++)
			unlink(g.gl_pathv[i]);
	globfree(&g);
	rmdir(rundir);
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {{"config", required_argument, NULL, 'c'},
						 {"interactive", no_argument, NULL, 'i'},
						 {"check-config", required_argument, NULL, 'C'},
						 {"version", no_argument, NULL, 'V'},
						 {"help", no_argument, NULL, 'h'},
						 {NULL, 0, NULL, 0}};
	static struct daemon d;
	const char *conf_path = NULL, *check_path = NULL;
	static char rundir[PATH_MAX]; /* set once we are the primary: its files are ours */
	int opt, ret, exit_code = 1;

	while ((opt = getopt_long(argc, argv, "c:ihV", longopts, NULL)) != -1) {
		switch (opt) {
		case 'c': conf_path = optarg; break;
		case 'i': d.interactive = true; break;
		case 'C': check_path = optarg; break;
		case 'V': printf("portmuxd %s\n", PMX_VERSION); return 0;
		case 'h': usage(stdout); return 0;
		default: fprintf(stderr, "Try 'portmuxd --help'.\n"); return 2;
		}
	}
	if (check_path != NULL && conf_path == NULL && !d.interactive)
		return pmx_config_check(check_path, argc - optind, argv + optind);
	if (conf_path == NULL || check_path != NULL) {
		fprintf(stderr, "portmuxd: %s\n",
			check_path != NULL ? "--check-config goes alone (without -c, -i)"
					   : "no configuration: -c FILE (or --check-config FILE)");
		fprintf(stderr, "Try 'portmuxd --help'.\n");
		return 2;
	}
	/* a stop asked for during start-up is honoured once it is done: nothing is left behind */
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	signal(SIGPIPE, SIG_IGN);
	/* EAL's arguments: the config's, those after "--", the ports' PCI allow-list entries */
	if (pmx_config_load(conf_path, argv[0], &d.cfg, d.err, sizeof(d.err)) != 0 ||
	    pmx_config_append_eal(&d.cfg, argc - optind, argv + optind) != 0 ||
	    pmx_config_eal_allow_pci(&d.cfg, d.err, sizeof(d.err)) != 0) {
		fprintf(stderr, "portmuxd: %s: %s\n", conf_path, d.err);
		return 1;
	}

	/* EAL may reorder its argv: give it a copy */
	char **eal_argv = calloc(d.cfg.eal_argc + 1, sizeof(char *));

	if (eal_argv == NULL)
		goto out_config;
	memcpy(eal_argv, d.cfg.eal_argv, sizeof(char *) * d.cfg.eal_argc);
	/* under systemd, each log line to the journal once (EAL's default stream adds syslog) */
	if (pmx_log_open_journal() < 0)
		fprintf(stderr, "portmuxd: log: cannot open the journal stream: log lines go twice\n");
	ret = rte_eal_init(d.cfg.eal_argc, eal_argv);
	if (ret < 0) {
		fprintf(stderr, "portmuxd: eal: cannot initialise EAL: %s\n",
			rte_strerror(rte_errno));
		goto out_argv;
	}
	pmx_log_init();
	pmx_sd_service_init(&d.sd);
	if (rte_eal_process_type() != RTE_PROC_PRIMARY) {
		fprintf(stderr, "portmuxd: eal: must run as the primary process\n");
		goto out_eal;
	}
	snprintf(rundir, sizeof(rundir), "%s", rte_eal_get_runtime_dir());
	/* dpdk-dumpcap (a secondary process) captures the ports through pdump */
	if (rte_pdump_init() != 0)
		PMX_LOG(WARNING, main, "pdump: %s: dpdk-dumpcap will not work",
			rte_strerror(rte_errno));

	/* start-up, in order; each step undone below in reverse */
	if (switch_init(&d) != 0 || pmx_ports_init(&d.sw, &d.cfg, d.err, sizeof(d.err)) != 0 ||
	    ctl_init(&d) != 0) {
		fprintf(stderr, "portmuxd: %s: %s\n", conf_path, d.err);
		goto out_switch;
	}
	if (pmx_telemetry_init(&d.ctl) != 0)
		PMX_LOG(WARNING, main, "telemetry: cannot register /portmux/* commands");

	for (unsigned w = 0; w < d.sw.n_workers; w++)
		rte_eal_remote_launch(pmx_worker_main, d.sw.workers[w], d.sw.workers[w]->lcore_id);
	print_banner(&d);
	pmx_sd_service_ready(&d.sd, &d.sw);
	if (d.interactive && pmx_prompt_start(&d.ctl, &stop_requested) != 0)
		stop_requested = 1;

	/* the management loop: control socket and prompt until a signal or quit */
	uint64_t last_age = rte_rdtsc();

	while (!stop_requested) {
		/* control requests (the socket), at most 20 ms of waiting */
		pmx_ctl_poll(&d.ctl, 20);
		pmx_ctl_lock(&d.ctl); /* telemetry reads rules from its own thread */
		/* first frames of new client connections, from the RX lcores */
		pmx_learn_poll(&d.ctl);
		/* memif clients: connections, handshakes, disconnects (their frames: RX lcores) */
		pmx_memif_server_poll(d.sw.memif);
		/* ring clients whose process ended: every mbuf they held back to the pool */
		pmx_mbuf_home_poll(&d.sw);
		/* the dataplane's view of the appliance's own addresses */
		pmx_local_addrs_refresh(&d.ctl);
		/* once a second: forget learned connections gone idle */
		if (rte_rdtsc() - last_age > rte_get_tsc_hz()) {
			last_age = rte_rdtsc();
			pmx_learn_age(&d.ctl);
		}
		pmx_ctl_unlock(&d.ctl);
		/* systemd's watchdog, fed while every RX lcore makes progress */
		pmx_sd_service_poll(&d.sd, &d.sw);
	}

	/* clients see the stop (-ESHUTDOWN) before their detach, and find the next daemon's
	 * socket only; ring clients let go of the shared memory before it is freed */
	pmx_sd_service_stopping();
	pmx_ctl_stop_listening(&d.ctl);
	__atomic_store_n(&d.sw.shm->daemon_pid, 0, __ATOMIC_RELEASE);
	pmx_prompt_stop();
	printf("portmuxd: stopping\n");
	__atomic_store_n(&d.sw.quit, 1, __ATOMIC_RELAXED);
	rte_eal_mp_wait_lcore();
	if (pmx_ctl_wait_ring_clients(&d.ctl, RING_CLIENTS_GONE_MS) != 0)
		PMX_LOG(WARNING, main, "stop: ring clients still attached after %u ms: their "
			"mappings of the shared memory go now", RING_CLIENTS_GONE_MS);
	pmx_ctl_close(&d.ctl);
	exit_code = 0;
out_switch:
	switch_fini(&d);
	rte_pdump_uninit();
out_eal:
	rte_eal_cleanup();
	if (rundir[0] != '\0')
		remove_eal_files(rundir);
out_argv:
	free(eal_argv);
out_config:
	pmx_config_free(&d.cfg);
	return exit_code;
}
