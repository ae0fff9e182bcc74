"""`python -m twinning` is the `twinning` command."""

import sys

from twinning.processes import prepare_start


def run() -> None:
    """The `twinning` command. Before importing the command line (and the code it needs), a
    long-running command prepares its start (`prepare_start`: `up` starts its worker)."""
    prepare_start(sys.argv)
    from twinning.cli import main

    main()


if __name__ == "__main__":
    run()
