from .judge import *  # noqa: F401,F403
from .judge import __all__  # noqa: F401
