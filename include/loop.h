/*
 * loop.h - the daemon's main loop: signals through a signalfd (handlers
 * only ever set flags; here there are none at all), the poll schedule,
 * storage recovery, reload and systemd notification.
 */
#ifndef SUNARCHIVE_LOOP_H
#define SUNARCHIVE_LOOP_H

#include "config.h"

/*
 * Run until SIGTERM or SIGINT. Takes ownership of *cfg (released on
 * return). Returns the process exit status.
 */
int	loop_run(const char *cfg_path, struct config *cfg);

#endif
