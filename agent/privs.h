/* privs.h - least privilege: once started, flowagent keeps only the
 * capabilities its loop needs (see privs.c and flowagent(8)).
 */
#ifndef FE_PRIVS_H
#define FE_PRIVS_H
#include "config.h"

/* Drops every capability but those cfg's agent needs from now on, from the
 * effective, permitted, inheritable and bounding sets, and sets
 * no_new_privs. Returns 0 or -errno (the agent then runs on with what it
 * had, and says so).
 */
int privs_drop(const struct fe_config *cfg);
/* The names of what privs_drop() keeps for cfg, space-separated. */
const char *privs_kept(const struct fe_config *cfg, char *buf, size_t len);

#endif
