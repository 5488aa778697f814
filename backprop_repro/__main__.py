import sys

from backprop_repro.cli.startup import install

install()

from backprop_repro.cli.program import main  # noqa: E402
from backprop_repro.core.errors import EXIT_INTERRUPTED  # noqa: E402

try:
    code = main()
except KeyboardInterrupt:   # a second Ctrl-C while the first one's message is written
    code = EXIT_INTERRUPTED
sys.exit(code)
