"""``python -m microready MODULE:ATTR [options]``"""

import sys

from .server.cli import main

if __name__ == "__main__":
    sys.exit(main())
