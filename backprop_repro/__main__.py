import sys

from ._startup import install

install()

from .cli import main  # noqa: E402

try:
    code = main()
except KeyboardInterrupt:   # a second Ctrl-C while the first one's message is written
    code = 130
sys.exit(code)
