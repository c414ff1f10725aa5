"""``python -m qapigen``: the same as the ``qapigen`` console script."""

import sys

from qapigen.cli import main

sys.exit(main())
