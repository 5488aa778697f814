"""Start-up guards, installed first thing by ``backprop_repro/__main__.py`` and by the ``backprop-repro`` console script
(through :mod:`backprop_repro.cli.program`):

- Ctrl-C while the program is still importing: one line, exit 130, nothing written (no traceback);
  :func:`backprop_repro.cli.program.main` replaces it with the usual KeyboardInterrupt handling.
- A standard stream closed at start (``>&-``, ``2>&-``, ``<&-``) gets /dev/null on its descriptor, so the first
  file the run opens cannot become fd 1 or 2 (a stray write or a child process would land in a pin or report).
"""

import os
import signal

from backprop_repro.core.errors import EXIT_INTERRUPTED   # a module without imports: start-up stays cheap


def _interrupted_at_start_up(signum, frame):
    try:
        os.write(2, b"backprop-repro: interrupted during start-up; nothing was written\n")
    except OSError:   # a closed or broken stderr must not turn 130 into a traceback
        pass
    os._exit(EXIT_INTERRUPTED)


def fill_closed_std_fds():
    """Put /dev/null on every closed descriptor among 0, 1 and 2; returns the ones that were closed."""
    closed = []
    for fd in (0, 1, 2):
        try:
            os.fstat(fd)
        except OSError:
            closed.append(fd)
            try:
                null = os.open(os.devnull, os.O_RDWR)
            except OSError:   # no /dev/null (a bare chroot): main() still drops the stream's output
                return closed
            if null != fd:
                os.dup2(null, fd)
                os.close(null)
    return closed


def install():
    signal.signal(signal.SIGINT, _interrupted_at_start_up)
    fill_closed_std_fds()
