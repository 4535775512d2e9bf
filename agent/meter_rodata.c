/* meter_rodata.c - the load-time knobs of a pinned meter set, read back
 * from its programs: the .rodata map a program uses holds the const
 * volatile values it was loaded with, and the map's BTF names them, so
 * that a set loaded by another flowexp version is read by name, never by
 * an offset of this version's skeleton.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/btf.h>
#include "meter_int.h"

#define RODATA_MAX_MAPS 16 /* map ids asked of a program */

/* Where var lies in the DATASEC type_id of btf: 0 or -ENOENT. */
static int rodata_var(const struct btf *btf, __u32 type_id, const char *var,
		      __u32 *off, __u32 *size)
{
	const struct btf_type *t = btf__type_by_id(btf, type_id);
	const struct btf_var_secinfo *vs;

	if (!t || !btf_is_datasec(t))
		return -ENOENT;
	vs = btf_var_secinfos(t);
	for (int i = 0; i < btf_vlen(t); i++, vs++) {
		const struct btf_type *v = btf__type_by_id(btf, vs->type);

		if (v && !strcmp(btf__name_by_offset(btf, v->name_off), var)) {
			*off = vs->offset;
			*size = vs->size;
			return 0;
		}
	}
	return -ENOENT;
}

static int rodata_map_read(int fd, const struct bpf_map_info *info,
			   const char *var, void *val, size_t len)
{
	struct btf *btf = btf__load_from_kernel_by_id(info->btf_id);
	__u32 off = 0, size = 0, zero = 0;
	char *buf;
	int err;

	if (!btf)
		return -errno;
	err = rodata_var(btf, info->btf_value_type_id, var, &off, &size);
	btf__free(btf);
	if (err)
		return err;
	if (size != len || off + size > info->value_size)
		return -EPROTO;
	buf = calloc(1, info->value_size);
	if (!buf)
		return -ENOMEM;
	err = bpf_map_lookup_elem(fd, &zero, buf) ? -errno : 0;
	if (!err)
		memcpy(val, buf + off, len);
	free(buf);
	return err;
}

int meter_rodata_read(int prog_fd, const char *var, void *val, size_t len)
{
	__u32 ids[RODATA_MAX_MAPS], plen;
	struct bpf_prog_info pi;
	int err = -ENOENT;

	memset(&pi, 0, sizeof(pi));
	pi.nr_map_ids = RODATA_MAX_MAPS;
	pi.map_ids = (__u64)(unsigned long)ids;
	plen = sizeof(pi);
	if (bpf_obj_get_info_by_fd(prog_fd, &pi, &plen))
		return -errno;
	for (__u32 i = 0; i < pi.nr_map_ids && i < RODATA_MAX_MAPS; i++) {
		struct bpf_map_info mi;
		__u32 mlen = sizeof(mi);
		int fd = bpf_map_get_fd_by_id(ids[i]);

		if (fd < 0)
			continue;
		memset(&mi, 0, sizeof(mi));
		/* libbpf names it "<object>.rodata" and gives it the BTF of
		 * its section
		 */
		if (!bpf_obj_get_info_by_fd(fd, &mi, &mlen) &&
		    mi.type == BPF_MAP_TYPE_ARRAY && mi.btf_id &&
		    strstr(mi.name, ".rodata"))
			err = rodata_map_read(fd, &mi, var, val, len);
		close(fd);
		if (err != -ENOENT)
			break;
	}
	return err;
}
