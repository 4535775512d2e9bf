/* globals.c - flowctl's global options (apart from main() so the
 * subcommands link into unit tests).
 */
#include "commands.h"
#include "ctlsock.h"
#include "meter.h"

struct ctl_globals ctl_globals = {
	.pin_path = FE_DEFAULT_PIN_PATH,
	.control_socket = FE_DEFAULT_CONTROL_SOCKET,
};
