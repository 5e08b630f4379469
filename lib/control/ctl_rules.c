/* ctl_rules.c - adding and deleting rules for any owner: overlap, kernel ports, quotas, reservations */
#include <errno.h>
#include <string.h>
#include <arpa/inet.h>

#include "ctl_checks.h"
#include "ctl_rules.h"
#include "flow_offload.h"
#include "kernel_ports.h"
#include "port_reserve.h"

static bool port_needs_privilege(const struct pmx_ctl *ctl, uint8_t proto, uint16_t port_be)
{
	uint16_t port = ntohs(port_be);

	if (port >= 1024 || proto == PMX_PROTO_ICMP || proto == PMX_PROTO_ICMPV6)
		return false;
	for (unsigned i = 0; i < ctl->cfg->n_low_ports; i++) {
		const struct pmx_proto_port *pp = &ctl->cfg->low_ports[i];

		if (pp->proto == proto && port >= pp->port_lo && port <= pp->port_hi)
			return false;
	}
	return true;
}

/* The listen_count slot of (proto, L4 port): 8 protocol classes of 64Ki ports. */
static unsigned count_slot(uint8_t proto, uint16_t port_be)
{
	static const uint8_t classes[] = {PMX_PROTO_TCP,     PMX_PROTO_UDP,  PMX_PROTO_SCTP,
					  PMX_PROTO_UDPLITE, PMX_PROTO_DCCP, PMX_PROTO_ICMP,
					  PMX_PROTO_ICMPV6};
	unsigned c = 7; /* every other protocol */

	for (unsigned i = 0; i < RTE_DIM(classes); i++)
		if (classes[i] == proto)
			c = i;
	return c * 65536 + ntohs(port_be);
}

/* Count rule r in (+1) or out (-1) of the overlap counters; a saturated count stays. */
static void count_rule(struct pmx_ctl *ctl, const struct pmx_rule *r, int delta)
{
	if (r->key.kind == PMX_KEY_LISTEN) {
		uint16_t *c = &ctl->listen_count[count_slot(r->key.proto, r->key.local_port)];

		if (*c != UINT16_MAX && (delta > 0 || *c > 0))
			*c = (uint16_t)(*c + delta);
	} else if ((r->key.kind == PMX_KEY_IP || r->key.kind == PMX_KEY_PROTO) &&
		   r->key.port_id < PMX_MAX_PORTS) {
		uint32_t *c = r->key.kind == PMX_KEY_IP ? &ctl->ip_count[r->key.port_id]
							: &ctl->proto_count[r->key.port_id];

		if (delta > 0 || *c > 0)
			*c += (uint32_t)delta;
	}
}

static bool ip_is_any(const uint8_t ip[16])
{
	static const uint8_t any[16];

	return memcmp(ip, any, 16) == 0;
}

/* Do rules a and b (one of them PROTO) of the same NIC port take some frame both? The same
 * protocol to the same address (or one for every address), from a common peer. */
static bool proto_overlaps(const struct pmx_flow_key *a, const struct pmx_flow_key *b)
{
	if (a->kind == PMX_KEY_IP || b->kind == PMX_KEY_IP) /* the address is someone's */
		return memcmp(a->local_ip, b->local_ip, 16) == 0;
	if (a->proto != b->proto)
		return false;
	if (!ip_is_any(a->local_ip) && !ip_is_any(b->local_ip) &&
	    memcmp(a->local_ip, b->local_ip, 16) != 0)
		return false;
	/* listening rules have no remote address: any peer */
	return a->kind == PMX_KEY_LISTEN || b->kind == PMX_KEY_LISTEN || ip_is_any(a->remote_ip) ||
	       ip_is_any(b->remote_ip) || memcmp(a->remote_ip, b->remote_ip, 16) == 0;
}

/* A rule of another owner than `owner` that overlaps key k when either is a whole-protocol
 * rule: a scan, done only when k is one or the NIC port has some. */
static const struct pmx_rule *proto_overlap(struct pmx_ctl *ctl, const struct pmx_flow_key *k,
					    uint16_t owner)
{
	uint32_t limit = pmx_flow_table_id_limit(ctl->sw->ft);

	if (k->kind != PMX_KEY_PROTO && ctl->proto_count[k->port_id] == 0)
		return NULL;
	for (uint32_t id = 0; id < limit; id++) {
		const struct pmx_rule *r = pmx_flow_table_rule(ctl->sw->ft, id);

		if (r == NULL || r->key.port_id != k->port_id || r->owner == owner ||
		    (k->kind != PMX_KEY_PROTO && r->key.kind != PMX_KEY_PROTO))
			continue;
		if (proto_overlaps(&r->key, k))
			return r;
	}
	return NULL;
}

void pmx_ctl_rules_forget_owner(struct pmx_ctl *ctl, uint16_t owner)
{
	uint32_t limit = pmx_flow_table_id_limit(ctl->sw->ft);

	for (uint32_t id = 0; id < limit; id++) {
		const struct pmx_rule *r = pmx_flow_table_rule(ctl->sw->ft, id);

		if (r != NULL && r->owner == owner)
			count_rule(ctl, r, -1);
	}
}

/* The rule with exactly key k, if another owner than `owner` has it. */
static const struct pmx_rule *other_owner(struct pmx_ctl *ctl, const struct pmx_flow_key *k,
					  uint16_t owner)
{
	const struct pmx_rule *r = pmx_flow_table_rule(ctl->sw->ft,
						       pmx_flow_table_find(ctl->sw->ft, k));

	return r != NULL && r->owner != owner ? r : NULL;
}

/* Look through every rule for one of another owner overlapping any-address key k: a listening
 * rule on its (proto, port) or an IP rule of its NIC port. */
static const struct pmx_rule *overlap_scan(struct pmx_ctl *ctl, const struct pmx_flow_key *k,
					   uint16_t owner)
{
	uint32_t limit = pmx_flow_table_id_limit(ctl->sw->ft);

	for (uint32_t id = 0; id < limit; id++) {
		const struct pmx_rule *r = pmx_flow_table_rule(ctl->sw->ft, id);

		if (r == NULL || r->key.port_id != k->port_id || r->owner == owner)
			continue;
		if (r->key.kind == PMX_KEY_IP ||
		    (r->key.kind == PMX_KEY_LISTEN && r->key.proto == k->proto &&
		     r->key.local_port == k->local_port))
			return r;
	}
	return NULL;
}

/*
 * A rule of an owner other than `owner` that overlaps listening key k (or IP key k): the same
 * address or either one for every address, or an IP rule on k's address. Lookups of the few
 * keys that can overlap; only an any-address key on a (proto, port) or NIC port that may have
 * such rules looks through all of them.
 */
static const struct pmx_rule *overlap(struct pmx_ctl *ctl, const struct pmx_flow_key *k,
				      uint16_t owner)
{
	static const uint8_t any[16];
	struct pmx_flow_key probe;
	const struct pmx_rule *r;

	if (k->kind == PMX_KEY_IP)
		return other_owner(ctl, k, owner);
	if (memcmp(k->local_ip, any, 16) == 0) {
		if (ctl->listen_count[count_slot(k->proto, k->local_port)] == 0 &&
		    ctl->ip_count[k->port_id] == 0)
			return NULL;
		return overlap_scan(ctl, k, owner);
	}
	r = other_owner(ctl, k, owner); /* listening on the same address */
	if (r != NULL)
		return r;
	probe = *k;
	memset(probe.local_ip, 0, 16); /* listening on every address */
	r = other_owner(ctl, &probe, owner);
	if (r != NULL)
		return r;
	pmx_flow_key_reduce(k, PMX_KEY_IP, 0, &probe); /* the address is someone's */
	return other_owner(ctl, &probe, owner);
}

static const char *owner_words(uint16_t owner)
{
	if (owner == PMX_OWNER_KERNEL)
		return "the kernel (an operator rule)";
	if (owner == PMX_OWNER_DROP)
		return "an operator drop rule";
	if (owner == PMX_OWNER_ABSENT)
		return "a rule of the config file";
	return "another client";
}

/* A whole protocol to an address: not the address of a client with a MAC of its own, and not
 * something the kernel at that address has (policy pass, the allow list, a socket). */
static int proto_kernel_checks(struct pmx_ctl *ctl, const struct pmx_flow_key *key, uint16_t owner,
			       struct pmx_ctl_error *e)
{
	int holder = pmx_ctl_own_mac_holder(ctl, key->port_id, key->local_ip);
	char what[128], pbuf[8], ip[INET6_ADDRSTRLEN];
	const char *proto = pmx_ctl_proto_name(key->proto, pbuf, sizeof(pbuf));

	if (holder >= 0 && holder != owner)
		return pmx_ctl_fail(e, "EADDRINUSE", "the address is client %d's (its own MAC)",
				    holder);
	if (!pmx_ctl_port_has_kernel(ctl, key->port_id) ||
	    !pmx_ctl_is_own_address(ctl, key->port_id, key->local_ip))
		return 0;
	pmx_addr_str(key->local_ip, ip, sizeof(ip));
	if (__atomic_load_n(&ctl->sw->kernel_policy, __ATOMIC_ACQUIRE) == PMX_POLICY_PASS)
		return pmx_ctl_fail(e, "EADDRINUSE",
				    "the kernel has %s to %s (kernel.policy pass gives it "
				    "everything no client owns)",
				    proto, ip);
	for (unsigned i = 0; i < ctl->cfg->n_allow; i++)
		if (ctl->cfg->allow[i].proto == key->proto)
			return pmx_ctl_fail(
				e, "EADDRINUSE",
				"the kernel has %s to %s (kernel.allow lets it in%s)", proto, ip,
				key->proto == PMX_PROTO_ICMP || key->proto == PMX_PROTO_ICMPV6
					? ": it answers ping"
					: "");
	if (pmx_kernel_ports_uses(ctl->resv, key, what, sizeof(what)))
		return pmx_ctl_fail(e, "EADDRINUSE", "the kernel uses %s", what);
	return 0;
}

/* The checks that only apply to a client owner. */
static int client_checks(struct pmx_ctl *ctl, const struct pmx_flow_key *key, uint16_t owner,
			 bool check_privilege, struct pmx_ctl_error *e)
{
	const struct pmx_ctl_session *cs = ctl->client_session[owner];

	if (cs == NULL)
		return pmx_ctl_fail(e, "ENOENT", "no client %u", owner);
	if (cs->n_rules >= ctl->cfg->client_rule_quota)
		return pmx_ctl_fail(e, "EDQUOT",
				    "client %u has its quota of %u rules (clients.rule_quota)",
				    owner, ctl->cfg->client_rule_quota);
	if (check_privilege && key->kind != PMX_KEY_IP &&
	    port_needs_privilege(ctl, key->proto, key->local_port))
		return pmx_ctl_fail(e, "EACCES", "port %u needs root or clients.low_ports",
				    ntohs(key->local_port));
	if (key->kind == PMX_KEY_IP && pmx_ctl_port_has_kernel(ctl, key->port_id) &&
	    pmx_ctl_is_own_address(ctl, key->port_id, key->local_ip))
		return pmx_ctl_fail(e, "EADDRINUSE", "the address is the kernel's own");
	if (key->kind == PMX_KEY_IP &&
	    pmx_ctl_own_mac_holder(ctl, key->port_id, key->local_ip) >= 0)
		return pmx_ctl_fail(e, "EADDRINUSE", "the address is client %d's (its own MAC)",
				    pmx_ctl_own_mac_holder(ctl, key->port_id, key->local_ip));
	if (key->kind == PMX_KEY_PROTO)
		return proto_kernel_checks(ctl, key, owner, e);
	return 0;
}

/* Hold the client's port against the kernel (binding it is also the check that the kernel
 * does not use it); a refusal names the kernel's socket, read from /proc/net. */
static int reserve(struct pmx_ctl *ctl, const struct pmx_flow_key *key, uint32_t *handle,
		   struct pmx_ctl_error *e)
{
	char what[128];
	int ret = pmx_port_resv_get(ctl->resv, key, handle);

	if (ret == 0)
		return 0;
	if (ret != -EADDRINUSE)
		return pmx_ctl_fail(e, "ENOMEM", "cannot hold the port against the kernel: %s",
				    strerror(-ret));
	if (pmx_kernel_ports_uses(ctl->resv, key, what, sizeof(what)))
		return pmx_ctl_fail(e, "EADDRINUSE", "the kernel uses %s", what);
	return pmx_ctl_fail(e, "EADDRINUSE", "a kernel socket is bound to port %u",
			    ntohs(key->local_port));
}

int pmx_ctl_rule_add(struct pmx_ctl *ctl, struct pmx_flow_key *key, uint16_t owner,
		     enum pmx_rule_origin origin, bool check_privilege, json_t **result,
		     struct pmx_ctl_error *e)
{
	bool client = owner < PMX_MAX_CLIENTS;
	/* a config rule's port is held for its client from start-up on */
	bool hold = client || owner == PMX_OWNER_ABSENT;
	struct pmx_flow_key reduced;
	const struct pmx_rule *other;
	uint32_t rule_id = PMX_RULE_NONE, handle = 0;
	int ret;

	if (client && client_checks(ctl, key, owner, check_privilege, e) != 0)
		return -1;
	/* a connection may not cut into a port someone else listens on, and vice versa; a whole
	 * protocol to an address may not overlap anyone else's rule */
	other = proto_overlap(ctl, key, owner);
	if (other == NULL && key->kind != PMX_KEY_PROTO) {
		pmx_flow_key_reduce(key, key->kind == PMX_KEY_IP ? PMX_KEY_IP : PMX_KEY_LISTEN, 0,
				    &reduced);
		other = overlap(ctl, &reduced, owner);
	}
	if (other != NULL)
		return pmx_ctl_fail(e, "EADDRINUSE", "already owned by %s",
				    owner_words(other->owner));
	if (hold && pmx_ctl_port_has_kernel(ctl, key->port_id) &&
	    reserve(ctl, key, &handle, e) != 0)
		return -1;
	ret = pmx_flow_table_add(ctl->sw->ft, key, owner, origin, &rule_id);
	if (ret != 0)
		pmx_port_resv_put(ctl->resv, handle);
	if (ret == -EEXIST) {
		other = pmx_flow_table_rule(ctl->sw->ft, rule_id);
		if (other != NULL && other->owner != owner)
			return pmx_ctl_fail(e, "EADDRINUSE", "already owned by %s",
					    owner_words(other->owner));
		return pmx_ctl_fail(e, "EEXIST", "the same rule exists already (rule %u)", rule_id);
	}
	if (ret == -ENOSPC)
		return pmx_ctl_fail(e, "ENOSPC", "the flow table is full (clients.max_rules)");
	if (ret != 0)
		return pmx_ctl_fail(e, "EINVAL", "cannot add the rule");
	pmx_port_resv_assign(ctl->resv, rule_id, handle);
	count_rule(ctl, pmx_flow_table_rule(ctl->sw->ft, rule_id), +1);
	if (client)
		ctl->client_session[owner]->n_rules++;
	pmx_offload_rule_added(ctl->sw, rule_id);
	*result = json_pack("{s:I}", "rule_id", (json_int_t)rule_id);
	return 0;
}

void pmx_ctl_rule_delete(struct pmx_ctl *ctl, uint32_t rule_id)
{
	const struct pmx_rule *r = pmx_flow_table_rule(ctl->sw->ft, rule_id);
	struct pmx_ctl_session *cs;

	if (r == NULL)
		return;
	cs = r->owner < PMX_MAX_CLIENTS ? ctl->client_session[r->owner] : NULL;
	if (cs != NULL && cs->n_rules > 0) /* learned rules count too (learn.c) */
		cs->n_rules--;
	count_rule(ctl, r, -1);
	pmx_port_resv_release(ctl->resv, rule_id);
	pmx_offload_rule_removed(ctl->sw, rule_id);
	pmx_flow_table_del(ctl->sw->ft, rule_id);
}
