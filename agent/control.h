/* control.h - flowagent's answers to flowctl over the control socket. */
#ifndef FE_CONTROL_H
#define FE_CONTROL_H
#include "core.h"

/* Serves one control request on fd (then closes it). */
void control_handle(struct agent *a, int fd, const char *line);

#endif
