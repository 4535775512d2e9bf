/* config.h - flowagent's configuration: the INI file (docs/flowexp.ini.5)
 * parsed and validated into one plain struct with fixed-size arrays
 * (agent/config_read.c and the other config_*.c files behind it).
 */
#ifndef FE_CONFIG_H
#define FE_CONFIG_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/socket.h>
#include "meter.h" /* enum fe_ingress */

#define FE_MAX_IFACES 64
#define FE_MAX_COLLECTORS 16
#define FE_MAX_TEMPLATES 32
#define FE_MAX_FIELDS 64

#define FE_DEFAULT_CONFIG "/etc/flowexp.ini"
/* A collector's send queue (queue_size): the default holds about 75,000
 * IPv4 biflow records of the default template (112 octets each); the
 * least holds a message of the largest mtu.
 */
#define FE_QUEUE_DEFAULT (8u << 20)
#define FE_QUEUE_MIN (64u << 10)
#define FE_QUEUE_MAX (1u << 30)

enum fe_transport { FE_TRANSPORT_UDP, FE_TRANSPORT_TCP };
/* What a collector gets: IPFIX or NetFlow v9 messages over the network
 * (per version), or JSON lines in a file.
 */
enum fe_format { FE_FORMAT_IPFIX, FE_FORMAT_JSON };

/* A [template NAME] section. Every template uses two template ids: id for
 * its IPv4 variant and id + 1 for its IPv6 variant, so id <= 65534 and the
 * ids of two templates differ by at least 2. ies[] are IANA element ids of
 * exportable elements (ie_by_id(ies[i])->exportable), no duplicates.
 */
struct fe_template_cfg {
	char name[64];
	uint16_t id;
	uint16_t ies[FE_MAX_FIELDS];
	int nies;
	int line; /* of the section header */
};

/* A [collector NAME] section. addrlen is 0 only when the host name was not
 * looked up (FE_CONFIG_NO_RESOLVE, FE_CONFIG_DEFER_COLLECTORS: the agent
 * resolves it) or the format is json; address is the text as written.
 * version 9 has biflow false; format json has a path ("-": standard
 * output) and no address.
 */
struct fe_collector_cfg {
	char name[64];
	enum fe_format format;
	uint8_t version; /* 10 IPFIX, 9 NetFlow v9 */
	char path[256];
	char address[256];
	struct sockaddr_storage addr;
	socklen_t addrlen;
	enum fe_transport transport;
	bool biflow, split_links;
	int tmpl; /* index into cfg->tmpl or -1 = built-in default template */
	uint16_t mtu;
	unsigned int template_refresh; /* s; 0 = at session start only (TCP) */
	uint32_t observation_domain;   /* the agent's unless overridden */
	uint32_t queue_size;	       /* octets of the send queue */
	int line;		       /* of the section header */
};

struct fe_config {
	char ifaces[FE_MAX_IFACES][16];
	int nifaces;
	enum fe_ingress ingress;
	unsigned int poll_interval_ms, active_timeout, idle_timeout,
		end_grace_ms;
	uint32_t observation_domain;
	char pin_path[256], control_socket[108], netns[64]; /* "" = none */
	unsigned int max_flows, kernel_max_flows;
	/* kernel_max_flows = auto: the value above is
	 * fe_kernel_max_flows_auto() of max_flows, ingress and the RAM
	 */
	bool kernel_max_flows_auto;
	bool xdp_skb_mode;
	bool precise_ts;   /* timestamps = precise */
	bool state_memory; /* state = memory: no pinned state (persist.c) */
	/* 1-in-N packet sampling of a meter set the agent creates (1: every
	 * packet). A running agent holds the rate of the set in use here,
	 * which a reused set may have been loaded with (core.c)
	 */
	unsigned int sampling;
	int log_level; /* enum fe_log_level */
	/* the /metrics endpoint; "" = off. metrics_addrlen is 0 only when
	 * the host name was not resolved (FE_CONFIG_NO_RESOLVE)
	 */
	char metrics_listen[256];
	struct sockaddr_storage metrics_addr;
	socklen_t metrics_addrlen;
	struct fe_collector_cfg coll[FE_MAX_COLLECTORS];
	int ncoll;
	struct fe_template_cfg tmpl[FE_MAX_TEMPLATES];
	int ntmpl;
};

void fe_config_defaults(struct fe_config *cfg);

/* kernel_max_flows = auto: entries for a poll in which every conversation
 * of the cache (max_flows) is active, seen as 2 kernel entries (its two
 * directions) at the egress meters, 4 with ingress meters too; rounded up
 * to a power of two (the hash map's bucket count), and at most what keeps
 * the live and spare flow maps (2 x METER_MAP_BYTES_PER_ENTRY per entry)
 * within 1/32 of ram_bytes; within FE_MIN_MAX_FLOWS..FE_MAX_MAX_FLOWS.
 */
unsigned int fe_kernel_max_flows_auto(unsigned int max_flows,
				      enum fe_ingress ingress,
				      unsigned long long ram_bytes);

/* 0 on success; -EINVAL with "file:line: message" in err on a config error;
 * -errno with "file: strerror" when the file cannot be read. Collectors'
 * host names are not looked up (FE_CONFIG_DEFER_COLLECTORS): a name that
 * does not resolve yet (DNS not up at boot) is no error, and a reload never
 * waits on a resolver.
 */
int fe_config_load(const char *path, struct fe_config *cfg, char *err,
		   size_t errlen);
/* For `flowagent --check`: looks up every collector host name left
 * unresolved and writes "path:line: warning: ..." to out for each one that
 * does not resolve now. Returns the number of warnings.
 */
int fe_config_check_names(const struct fe_config *cfg, const char *path,
			  FILE *out);
int fe_config_parse_string(const char *name, const char *text,
			   struct fe_config *cfg, char *err, size_t errlen);

/* Flags of fe_config_parse(). NO_RESOLVE accepts a syntactically valid host
 * name without asking the resolver (addrlen stays 0): for fuzzing and for
 * checking a file on a machine that cannot resolve its names.
 */
#define FE_CONFIG_NO_RESOLVE 0x1u
/* Only the collectors' host names are left for later (addrlen 0). */
#define FE_CONFIG_DEFER_COLLECTORS 0x2u
int fe_config_parse(const char *name, const char *text, unsigned int flags,
		    struct fe_config *cfg, char *err, size_t errlen);

/* Writes cfg as an INI file that parses back to the same configuration
 * (the round trip the unit and fuzz tests check; `flowagent --check`
 * prints only a one-line summary). Returns 0 or -errno.
 */
int fe_config_print(FILE *f, const struct fe_config *cfg);

const char *fe_ingress_name(enum fe_ingress ing);
const char *fe_transport_name(enum fe_transport t);
const char *fe_format_name(enum fe_format f);

#endif
