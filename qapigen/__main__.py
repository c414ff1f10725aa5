"""``python -m qapigen`` and the ``qapigen`` console script.

``qapigen serve`` goes straight to the runtime without importing the
compiler's command line (argparse, the schema front end): the server's
time to its first greeting is part of what it promises.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if args[:1] == ["serve"]:
        from qapigen.runtime.main import main as serve_main

        return serve_main(args[1:])
    from qapigen.cli import main as cli_main

    return cli_main(args)


if __name__ == "__main__":
    sys.exit(main())
