/* SPDX-License-Identifier: BSD-3-Clause */
/**
 * @file
 * prompt.h - portmuxd's interactive prompt (-i): the operator commands of lib/control/cli.h
 * read from stdin by the management loop, run in an admin session of the control plane.
 */
#ifndef PMX_PROMPT_H
#define PMX_PROMPT_H

#include <signal.h>

#include "ctl.h"

/**
 * Open the prompt on stdin (a terminal or a pipe; a file or /dev/null is read at once).
 * The control loop (pmx_ctl_poll) then serves it; "quit" or the end of stdin sets *stop.
 * Management thread only. @return 0 or -errno.
 */
int pmx_prompt_start(struct pmx_ctl *ctl, volatile sig_atomic_t *stop);

/** Close the prompt and give the terminal back its settings. Safe when never started. */
void pmx_prompt_stop(void);

#endif
