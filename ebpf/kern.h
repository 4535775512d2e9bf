/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* kern.h - the few kernel structures the meters read (struct sk_buff at tc
 * egress and in fe_kfree_skb, the conntrack entry of a packet), declared
 * with only the members used and relocated by CO-RE against the running
 * kernel's BTF: libbpf finds each member by name, whatever its offset.
 * Only meter.bpf.c includes it.
 */
#ifndef FE_KERN_H
#define FE_KERN_H

#define FE_PRESERVE __attribute__((preserve_access_index))

struct net_device {
	int ifindex;
} FE_PRESERVE;

struct sk_buff {
	struct net_device *dev;
	unsigned long _nfct; /* conntrack entry | ctinfo (low 3 bits) */
	unsigned int len;
	int skb_iif;
	__u32 vlan_all; /* nonzero: a tag held out of the data */
	__u16 vlan_tci;
	__u16 mac_header;
	unsigned int end; /* of the linear data: skb_shared_info follows */
	unsigned char *head;
	unsigned char *data;
} FE_PRESERVE;

struct skb_shared_info {
	unsigned short gso_size;
	unsigned short gso_segs;
} FE_PRESERVE;

/* A conntrack tuple as the kernel lays it out (stable since 2.6): the
 * source {address, port or ICMP id, l3num}, the destination {address,
 * port or ICMP type and code, protocol, dir}. 40 octets, read whole.
 */
struct fe_ct_tuple {
	__u8 saddr[16];
	__be16 sport; /* port, or the ICMP echo identifier */
	__u16 l3num;
	__u8 daddr[16];
	__be16 dport; /* port, or ICMP type << 8 | code (network order) */
	__u8 protonum;
	__u8 dir;
};

struct hlist_nulls_node {
	void *next;
	void *pprev;
} FE_PRESERVE;

struct nf_conntrack_tuple {
	__u8 raw[40];
};

struct nf_conntrack_tuple_hash {
	struct hlist_nulls_node hnnode;
	struct nf_conntrack_tuple tuple;
} FE_PRESERVE;

struct nf_conn {
	struct nf_conntrack_tuple_hash tuplehash[2];
	unsigned long status;
} FE_PRESERVE;

/* enum ip_conntrack_info, the low bits of _nfct */
#define FE_CT_RELATED 1
#define FE_CT_RELATED_REPLY 4
/* enum ip_conntrack_status: the connection is translated */
#define FE_IPS_SRC_NAT 0x10
#define FE_IPS_DST_NAT 0x20
#define FE_AF_INET 2
#define FE_AF_INET6 10

extern void *bpf_cast_to_kern_ctx(void *obj) __ksym;

#endif /* FE_KERN_H */
