/* records.h - turns one conversation of the flow cache into the flow
 * records one collector wants (biflow or uniflow, merged or per link).
 */
#ifndef FE_RECORDS_H
#define FE_RECORDS_H
#include <stdbool.h>
#include "flowcache.h"
#include "flowtypes.h"

enum fe_rec_mode { FE_REC_BIFLOW, FE_REC_UNIFLOW };

/* Builds the records for the deltas of c since its last export (see
 * docs/multipath.md for what each mode produces). Counts only the positive
 * part of each path's deltas, so the packets of all records sum to what the
 * cache exports for c. Fills out[0..min(n, max)) and returns n, the number
 * of records c needs (0: nothing to export); n > max means out was too
 * small and holds the first max.
 */
int fe_conv_records(const struct fe_conv *c, enum fe_rec_mode mode,
		    bool split_links, uint8_t end_reason, struct fe_record *out,
		    int max);

/* The path of a direction with the most packets over the conversation's
 * life (ties: lowest in_if, then out_if); NULL when it has no path.
 */
const struct fe_path *fe_conv_dominant_path(const struct fe_conv_dir *d);

#endif /* FE_RECORDS_H */
