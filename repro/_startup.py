"""Ctrl-C while the program is still importing: one line, exit 130, nothing written (no traceback).

Installed first thing by ``repro/__main__.py`` and by the ``backprop-repro`` console script (through
:mod:`repro.cli`); :func:`repro.cli.main` replaces it with the usual KeyboardInterrupt handling.
"""

import os
import signal


def _interrupted_at_start_up(signum, frame):
    os.write(2, b"backprop-repro: interrupted during start-up; nothing was written\n")
    os._exit(130)


def install():
    signal.signal(signal.SIGINT, _interrupted_at_start_up)
