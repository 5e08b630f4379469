/* prompt.c - portmuxd -i: the operator prompt on stdin, fed by the management loop (no thread) */
#include <errno.h>
#include <string.h>
#include <unistd.h>

#include <cmdline.h>
#include <cmdline_socket.h>

#include "cli.h"
#include "pmx_log.h"
#include "prompt.h"

static struct {
	struct pmx_ctl *ctl;
	struct pmx_ctl_session session; /* the operator at the prompt: an admin, never a client */
	struct cmdline *cl;
	struct pmx_ctl_watch watch;
	bool watching;
	volatile sig_atomic_t *stop;
} P;

static json_t *exec_local(void *arg, json_t *req)
{
	(void)arg;
	return pmx_ctl_execute(P.ctl, &P.session, req);
}

static void quit(void *arg)
{
	(void)arg;
	*P.stop = 1;
}

/* stdin has bytes (or hung up): hand them to the line editor, which runs complete lines. */
static void on_stdin(void *arg)
{
	char buf[512];
	ssize_t n = read(STDIN_FILENO, buf, sizeof(buf));

	(void)arg;
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n <= 0) {
		/* end of input: like testpmd, the daemon stops with its prompt */
		pmx_ctl_unwatch(P.ctl, &P.watch);
		P.watching = false;
		*P.stop = 1;
		return;
	}
	cmdline_in(P.cl, buf, (int)n);
}

int pmx_prompt_start(struct pmx_ctl *ctl, volatile sig_atomic_t *stop)
{
	struct pmx_cli_ops ops = {.exec = exec_local, .quit = quit, .out_fd = STDOUT_FILENO,
				  .err_fd = STDOUT_FILENO};
	int ret;

	P.ctl = ctl;
	P.stop = stop;
	P.session = (struct pmx_ctl_session){.kind = PMX_CTL_SESSION, .fd = -1, .uid = getuid(),
					     .gid = getgid(), .pid = getpid(), .admin = true,
					     .client_id = -1, .name = "prompt"};
	pmx_cli_bind(&ops);
	P.cl = cmdline_stdin_new(pmx_cli_ctx, "portmux> ");
	if (P.cl == NULL)
		return -ENOMEM;
	P.watch = (struct pmx_ctl_watch){.fd = STDIN_FILENO, .readable = on_stdin};
	ret = pmx_ctl_watch(ctl, &P.watch);
	if (ret == -EPERM) {
		/* a regular file or /dev/null cannot be polled, and never blocks: read it now */
		while (!*stop)
			on_stdin(NULL);
		return 0;
	}
	if (ret != 0) {
		PMX_LOG(ERR, main, "cannot watch stdin for the prompt: %s", strerror(-ret));
		return ret;
	}
	P.watching = true;
	return 0;
}

void pmx_prompt_stop(void)
{
	if (P.cl == NULL)
		return;
	if (P.watching)
		pmx_ctl_unwatch(P.ctl, &P.watch);
	P.watching = false;
	cmdline_stdin_exit(P.cl);
	P.cl = NULL;
}
