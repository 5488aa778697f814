import os
import signal
import sys


def _interrupted_at_start_up(signum, frame):   # Ctrl-C while importing: one line, exit 130, nothing written
    os.write(2, b"backprop-repro: interrupted during start-up; nothing was written\n")
    os._exit(130)


signal.signal(signal.SIGINT, _interrupted_at_start_up)

from .cli import main  # noqa: E402

try:
    code = main()
except KeyboardInterrupt:   # a second Ctrl-C while the first one's message is written
    code = 130
sys.exit(code)
