/* stress_flow.c - flow-table stress (management lcore writes while RX lcores read): one writer
 * churns thousands of rules per second while two reader lcores classify bursts of keys of a
 * stable rule set. Counts stable lookups that returned a wrong owner or none (must be 0),
 * churned keys that returned an owner other than their own (must be 0), rule ids reused
 * before every reader passed a quiescent state (must be 0), checks the per-rule hit counters
 * against the lookups made, and prints the churn rate and the lookups per second per reader.
 *
 * usage: stress_flow [-d SECONDS] [-k CHURN_KEYS] [-- EAL-ARGS...]
 * Default EAL arguments: --no-huge -m 256 --no-pci --no-shconf --lcores 0@0,1@1,2@1: the
 * writer (main lcore) on CPU 0, both readers sharing CPU 1, so a reader is regularly
 * descheduled for a whole time slice while it may hold a reference (what RCU must survive).
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <rte_byteorder.h>
#include <rte_cycles.h>
#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_launch.h>
#include <rte_lcore.h>
#include <rte_malloc.h>

#include "flow_table.h"

#define N_LISTEN 1000    /* stable listen rules: found through the listen stage */
#define N_EXACT 1000     /* stable connect rules: found by the exact stage */
#define N_IP 24          /* stable owned-IP rules: found by the last stage */
#define N_STABLE (N_LISTEN + N_EXACT + N_IP)
#define SLACK 256          /* table capacity beyond the stable rules and half the churned keys */
#define N_READERS 2
#define BURST 32
#define STABLE_PER_BURST 24 /* the other 8 keys of a burst are churned ones */
#define SYNC_EVERY 4096     /* writer operations between two explicit synchronize calls */
#define MIN_UPDATES 2000  /* fewer rule updates (a starved writer) stress nothing: invalid */
#define MIN_REUSES 100    /* ... and so do fewer rule ids handed out again */

struct reader {
	unsigned id;
	uint64_t bursts;
	uint64_t stable;       /* stable keys looked up */
	uint64_t stable_wrong; /* ... that returned another owner */
	uint64_t stable_none;  /* ... that returned no owner (lost) */
	uint64_t churn;        /* churned keys looked up */
	uint64_t churn_hit;    /* ... that returned their own owner */
	uint64_t churn_wrong;  /* ... that returned somebody else's owner */
	uint64_t cycles;
} __rte_cache_aligned;

struct stress {
	struct pmx_flow_table *ft;
	unsigned n_churn;
	struct pmx_flow_key stable_key[N_STABLE];    /* the rules */
	struct pmx_flow_key stable_lookup[N_STABLE]; /* the keys a frame of each would carry */
	uint16_t stable_owner[N_STABLE];
	uint32_t stable_rule[N_STABLE];
	struct pmx_flow_key *churn_key;
	struct pmx_flow_key *churn_lookup;
	struct reader readers[N_READERS];
	volatile int started; /* readers launched (hands out reader ids) */
	volatile int ready;   /* readers registered with the table's RCU */
	volatile int stop;
};

static void v4(uint8_t ip[16], uint8_t a, uint8_t b, uint8_t c, uint8_t d)
{
	memset(ip, 0, 16);
	ip[10] = ip[11] = 0xff;
	ip[12] = a, ip[13] = b, ip[14] = c, ip[15] = d;
}

static uint16_t churn_owner(unsigned j)
{
	return (uint16_t)(1000 + (j * 40503u) % 50000u);
}

/* Stable rules: listen (udp 198.18.{0-3}.x:10000+i), exact (tcp 198.18.10.x:20000+i from
 * 198.18.20.y), owned IPs (198.18.30.i); each with the key a matching frame carries. */
static void make_stable(struct stress *s)
{
	for (unsigned i = 0; i < N_STABLE; i++) {
		struct pmx_flow_key *k = &s->stable_key[i], *l = &s->stable_lookup[i];

		memset(k, 0, sizeof(*k));
		memset(l, 0, sizeof(*l));
		l->kind = PMX_KEY_EXACT;
		if (i < N_LISTEN) {
			k->kind = PMX_KEY_LISTEN;
			k->proto = PMX_PROTO_UDP;
			v4(k->local_ip, 198, 18, (uint8_t)(i >> 8), (uint8_t)i);
			k->local_port = rte_cpu_to_be_16((uint16_t)(10000 + i));
			l->proto = k->proto;
			memcpy(l->local_ip, k->local_ip, 16);
			l->local_port = k->local_port;
			v4(l->remote_ip, 198, 19, 255, (uint8_t)(i % 250));
			l->remote_port = rte_cpu_to_be_16((uint16_t)(40000 + i));
			s->stable_owner[i] = (uint16_t)(i % 250);
		} else if (i < N_LISTEN + N_EXACT) {
			unsigned e = i - N_LISTEN;

			k->kind = PMX_KEY_EXACT;
			k->proto = PMX_PROTO_TCP;
			v4(k->local_ip, 198, 18, 10, (uint8_t)(e % 250));
			k->local_port = rte_cpu_to_be_16((uint16_t)(20000 + e));
			v4(k->remote_ip, 198, 18, 20, (uint8_t)(e % 200));
			k->remote_port = rte_cpu_to_be_16((uint16_t)(50000 + e % 1000));
			*l = *k;
			s->stable_owner[i] = (uint16_t)((e * 7) % 250);
		} else {
			unsigned p = i - N_LISTEN - N_EXACT;

			k->kind = PMX_KEY_IP;
			v4(k->local_ip, 198, 18, 30, (uint8_t)p);
			l->proto = PMX_PROTO_SCTP;
			memcpy(l->local_ip, k->local_ip, 16);
			l->local_port = rte_cpu_to_be_16(1234);
			v4(l->remote_ip, 198, 18, 31, (uint8_t)p);
			l->remote_port = rte_cpu_to_be_16(4321);
			s->stable_owner[i] = i % 2 ? PMX_OWNER_KERNEL : (uint16_t)(300 + p);
		}
	}
}

/* Churned rules live on 198.19.0.0/16, apart from every stable rule: even j an exact tcp
 * rule, odd j a listen udp rule; absent, their keys match nothing at all. */
static void make_churn(struct stress *s)
{
	for (unsigned j = 0; j < s->n_churn; j++) {
		struct pmx_flow_key *k = &s->churn_key[j], *l = &s->churn_lookup[j];

		memset(k, 0, sizeof(*k));
		k->proto = j % 2 ? PMX_PROTO_UDP : PMX_PROTO_TCP;
		k->kind = j % 2 ? PMX_KEY_LISTEN : PMX_KEY_EXACT;
		v4(k->local_ip, 198, 19, (uint8_t)(j >> 8), (uint8_t)j);
		k->local_port = rte_cpu_to_be_16((uint16_t)(30000 + j % 1000));
		if (k->kind == PMX_KEY_EXACT) {
			v4(k->remote_ip, 198, 18, 40, 1);
			k->remote_port = rte_cpu_to_be_16(5555);
		}
		*l = *k;
		l->kind = PMX_KEY_EXACT;
		if (k->kind == PMX_KEY_LISTEN) {
			v4(l->remote_ip, 198, 18, 40, 2);
			l->remote_port = rte_cpu_to_be_16(6666);
		}
	}
}

static inline uint32_t xorshift(uint32_t *x)
{
	*x ^= *x << 13;
	*x ^= *x >> 17;
	*x ^= *x << 5;
	return *x;
}

/* An RX lcore: classify bursts, check every answer, report a quiescent state per burst. */
static int reader_main(void *arg)
{
	struct stress *s = arg;
	unsigned id = __atomic_fetch_add(&s->started, 1, __ATOMIC_ACQ_REL);
	struct reader *r = &s->readers[id];
	const struct pmx_flow_key *keys[BURST];
	unsigned which[BURST];
	uint16_t owners[BURST];
	uint32_t rnd = 2463534242u + id * 7919u;
	unsigned cursor = id * (N_STABLE / N_READERS);
	uint64_t start;

	r->id = id;
	if (pmx_flow_table_reader_register(s->ft, id) != 0)
		return -1;
	__atomic_fetch_add(&s->ready, 1, __ATOMIC_RELEASE);
	start = rte_rdtsc();
	while (!__atomic_load_n(&s->stop, __ATOMIC_RELAXED)) {
		for (unsigned b = 0; b < BURST; b++) {
			if (b < STABLE_PER_BURST) {
				which[b] = cursor;
				keys[b] = &s->stable_lookup[cursor];
				cursor = cursor + 1 == N_STABLE ? 0 : cursor + 1;
			} else {
				which[b] = xorshift(&rnd) % s->n_churn;
				keys[b] = &s->churn_lookup[which[b]];
			}
		}
		pmx_flow_table_classify_bulk(s->ft, id, keys, BURST, owners);
		for (unsigned b = 0; b < STABLE_PER_BURST; b++) {
			r->stable_none += owners[b] == PMX_OWNER_NONE;
			r->stable_wrong += owners[b] != PMX_OWNER_NONE &&
					   owners[b] != s->stable_owner[which[b]];
		}
		for (unsigned b = STABLE_PER_BURST; b < BURST; b++) {
			r->churn_hit += owners[b] == churn_owner(which[b]);
			r->churn_wrong += owners[b] != PMX_OWNER_NONE &&
					  owners[b] != churn_owner(which[b]);
		}
		r->stable += STABLE_PER_BURST;
		r->churn += BURST - STABLE_PER_BURST;
		r->bursts++;
		/* nothing looked up in this burst is held any more */
		pmx_flow_table_quiescent(s->ft, id);
	}
	r->cycles = rte_rdtsc() - start;
	pmx_flow_table_reader_unregister(s->ft, id);
	return 0;
}

struct writer_stats {
	uint64_t adds, dels, enospc, full, add_failed, reuse_early, reuse_checked;
	uint64_t syncs, sync_cycles, sync_max;
	uint64_t cycles;
};

/* The management lcore: add or delete a random churned rule, as fast as it goes. */
static void writer_run(struct stress *s, double seconds, struct writer_stats *w)
{
	struct rte_rcu_qsbr *qsv = pmx_flow_table_qsbr(s->ft);
	uint32_t limit = pmx_flow_table_id_limit(s->ft);
	uint64_t *del_token = calloc(limit, sizeof(*del_token));
	uint32_t *rule_of = calloc(s->n_churn, sizeof(*rule_of));
	uint8_t *present = calloc(s->n_churn, 1);
	uint64_t start = rte_rdtsc(), end = start + (uint64_t)(seconds * rte_get_tsc_hz());
	uint32_t rnd = 88172645u;
	uint64_t ops = 0, now;

	if (del_token == NULL || rule_of == NULL || present == NULL) {
		w->add_failed = UINT64_MAX;
		goto out;
	}
	while ((now = rte_rdtsc()) < end) {
		unsigned j = xorshift(&rnd) % s->n_churn;
		uint32_t id;
		int ret;

		if (present[j]) {
			/* a token taken before the delete: the slot may come back only once
			 * every reader has passed it */
			uint64_t token = rte_rcu_qsbr_start(qsv);

			if (pmx_flow_table_del(s->ft, rule_of[j]) == 0) {
				del_token[rule_of[j]] = token;
				w->dels++;
			}
			present[j] = 0;
		} else {
			ret = pmx_flow_table_add(s->ft, &s->churn_key[j], churn_owner(j),
						 PMX_ORIGIN_CLIENT, &id);
			if (ret == -ENOSPC) {
				/* the free slots may all wait for the readers: let them pass */
				w->enospc++;
				pmx_flow_table_synchronize(s->ft);
				ret = pmx_flow_table_add(s->ft, &s->churn_key[j], churn_owner(j),
							 PMX_ORIGIN_CLIENT, &id);
			}
			if (ret == -ENOSPC) { /* really full: try another key */
				w->full++;
				continue;
			}
			if (ret != 0) {
				w->add_failed++;
				continue;
			}
			if (del_token[id] != 0) {
				w->reuse_checked++;
				w->reuse_early +=
					rte_rcu_qsbr_check(qsv, del_token[id], false) != 1;
			}
			rule_of[j] = id;
			present[j] = 1;
			w->adds++;
		}
		if (++ops % SYNC_EVERY == 0) {
			/* what a client detach does: wait until no reader holds anything */
			uint64_t t0 = rte_rdtsc(), dt;

			pmx_flow_table_synchronize(s->ft);
			dt = rte_rdtsc() - t0;
			w->syncs++;
			w->sync_cycles += dt;
			w->sync_max = RTE_MAX(w->sync_max, dt);
		}
	}
	w->cycles = now - start;
	/* the writer's view at the end: every present rule found with its owner, no other */
	for (unsigned j = 0; j < s->n_churn; j++) {
		uint32_t found = pmx_flow_table_find(s->ft, &s->churn_key[j]);
		const struct pmx_rule *rule = pmx_flow_table_rule(s->ft, found);

		if (present[j] ? found != rule_of[j] || rule == NULL ||
					 rule->owner != churn_owner(j)
			       : found != PMX_RULE_NONE)
			w->add_failed++;
	}
out:
	free(del_token);
	free(rule_of);
	free(present);
}

static void print_lcore(const char *what, unsigned lcore)
{
	rte_cpuset_t set = rte_lcore_cpuset(lcore);

	printf("%s on lcore %u, cpus", what, lcore);
	for (unsigned c = 0; c < CPU_SETSIZE; c++)
		if (CPU_ISSET(c, &set))
			printf(" %u", c);
	printf("\n");
}

static int add_stable(struct stress *s)
{
	for (unsigned i = 0; i < N_STABLE; i++) {
		int ret = pmx_flow_table_add(s->ft, &s->stable_key[i], s->stable_owner[i],
					     PMX_ORIGIN_CLIENT, &s->stable_rule[i]);

		if (ret != 0) {
			fprintf(stderr, "stress_flow: cannot add stable rule %u: %s\n", i,
				strerror(-ret));
			return ret;
		}
	}
	return 0;
}

static double per_sec(uint64_t n, uint64_t cycles)
{
	return cycles == 0 ? 0.0 : (double)n * (double)rte_get_tsc_hz() / (double)cycles;
}

/* Print the figures; return the number of failed checks. */
static int report(struct stress *s, const struct writer_stats *w)
{
	double us = 1e6 / (double)rte_get_tsc_hz();
	uint64_t stable = 0, wrong = 0, none = 0, churn_wrong = 0, hits = 0;
	int failed = 0;

	printf("writer: %.2f s, %" PRIu64 " adds + %" PRIu64 " deletes = %.0f rule updates/s, "
	       "%" PRIu64 " ids reused (%" PRIu64 " before a grace period), %" PRIu64
	       " ENOSPC waits for readers, %" PRIu64 " adds refused (table full), %" PRIu64
	       " failures\n",
	       (double)w->cycles * us / 1e6, w->adds, w->dels,
	       per_sec(w->adds + w->dels, w->cycles),
	       w->reuse_checked, w->reuse_early, w->enospc, w->full, w->add_failed);
	printf("writer: %" PRIu64 " synchronize calls, mean %.1f us, max %.1f us\n", w->syncs,
	       w->syncs ? (double)w->sync_cycles * us / (double)w->syncs : 0.0,
	       (double)w->sync_max * us);
	for (unsigned i = 0; i < N_READERS; i++) {
		const struct reader *r = &s->readers[i];

		printf("reader %u: %.0f lookups/s (%" PRIu64 " bursts of %u), stable %" PRIu64
		       " (wrong %" PRIu64 ", none %" PRIu64 "), churned %" PRIu64
		       " (own owner %" PRIu64 ", wrong %" PRIu64 ")\n",
		       i, per_sec(r->bursts * BURST, r->cycles), r->bursts, BURST, r->stable,
		       r->stable_wrong, r->stable_none, r->churn, r->churn_hit, r->churn_wrong);
		stable += r->stable;
		wrong += r->stable_wrong;
		none += r->stable_none;
		churn_wrong += r->churn_wrong;
		failed += r->bursts == 0;
	}
	for (unsigned i = 0; i < N_STABLE; i++)
		hits += pmx_flow_table_hits(s->ft, s->stable_rule[i]);
	printf("stable rules: %" PRIu64 " lookups, %" PRIu64 " hits counted on them\n", stable,
	       hits);
	failed += wrong != 0;
	failed += none != 0;
	failed += churn_wrong != 0;
	failed += w->reuse_early != 0;
	failed += w->add_failed != 0;
	failed += hits != stable;
	if (w->adds + w->dels < MIN_UPDATES || w->reuse_checked < MIN_REUSES) {
		printf("FAIL: fewer than %d rule updates or %d reused ids: nothing was stressed\n",
		       MIN_UPDATES, MIN_REUSES);
		failed++;
	}
	return failed;
}

int main(int argc, char **argv)
{
	static char prefix[32];
	static char *default_eal[] = {"stress_flow", "--no-huge", "-m", "256", "--no-pci",
				      "--no-shconf", "--no-telemetry", "--file-prefix", prefix,
				      "--lcores", "0@0,1@1,2@1", "--log-level", "lib.eal:warning",
				      NULL};
	static struct stress s;
	struct writer_stats w = {0};
	double seconds = 5.0;
	char **eal_argv = default_eal;
	int eal_argc = (int)RTE_DIM(default_eal) - 1, opt, failed = 1;
	unsigned lcore, n = 0;

	snprintf(prefix, sizeof(prefix), "pmxstress%d", (int)getpid());
	s.n_churn = 8192;
	while ((opt = getopt(argc, argv, "d:k:")) != -1) {
		switch (opt) {
		case 'd': seconds = atof(optarg); break;
		case 'k': s.n_churn = (unsigned)atoi(optarg); break;
		default:
			fprintf(stderr, "usage: %s [-d SECONDS] [-k CHURN_KEYS] [-- EAL-ARGS...]\n",
				argv[0]);
			return 2;
		}
	}
	if (seconds <= 0 || seconds > 60 || s.n_churn < 2 || s.n_churn > 65536) {
		fprintf(stderr, "stress_flow: -d must be in (0, 60], -k in [2, 65536]\n");
		return 2;
	}
	if (optind < argc) { /* EAL arguments after "--" replace the defaults */
		eal_argv = argv + optind - 1;
		eal_argv[0] = argv[0];
		eal_argc = argc - optind + 1;
	}
	if (rte_eal_init(eal_argc, eal_argv) < 0) {
		fprintf(stderr, "stress_flow: cannot initialise EAL: %s\n",
			rte_strerror(rte_errno));
		return 1;
	}
	if (rte_lcore_count() < N_READERS + 1) {
		fprintf(stderr, "stress_flow: needs %d lcores (the writer and %d readers)\n",
			N_READERS + 1, N_READERS);
		goto out_eal;
	}
	s.churn_key = calloc(s.n_churn, sizeof(*s.churn_key));
	s.churn_lookup = calloc(s.n_churn, sizeof(*s.churn_lookup));
	/* a tight table: a deleted rule's slot is wanted again soon after its grace period */
	s.ft = pmx_flow_table_create("stress_flows", N_STABLE + s.n_churn / 2 + SLACK, N_READERS,
				     rte_socket_id());
	if (s.churn_key == NULL || s.churn_lookup == NULL || s.ft == NULL) {
		fprintf(stderr, "stress_flow: out of memory\n");
		goto out_free;
	}
	make_stable(&s);
	make_churn(&s);
	if (add_stable(&s) != 0)
		goto out_free;
	printf("stress_flow: %d stable rules (%d listen, %d exact, %d owned IPs), %u churned keys, "
	       "table of %u, %d readers, %.1f s\n",
	       N_STABLE, N_LISTEN, N_EXACT, N_IP, s.n_churn, pmx_flow_table_id_limit(s.ft),
	       N_READERS, seconds);
	RTE_LCORE_FOREACH_WORKER(lcore) {
		if (n++ == N_READERS)
			break;
		print_lcore("reader", lcore);
		rte_eal_remote_launch(reader_main, &s, lcore);
	}
	print_lcore("writer", rte_lcore_id());
	while (__atomic_load_n(&s.ready, __ATOMIC_ACQUIRE) < N_READERS)
		rte_pause();

	writer_run(&s, seconds, &w);
	__atomic_store_n(&s.stop, 1, __ATOMIC_RELEASE);
	rte_eal_mp_wait_lcore();

	failed = report(&s, &w);
	printf("%s: %d failed check(s)\n", failed ? "FAIL" : "PASS", failed);
out_free:
	pmx_flow_table_destroy(s.ft);
	free(s.churn_key);
	free(s.churn_lookup);
out_eal:
	rte_eal_cleanup();
	return failed ? 1 : 0;
}
