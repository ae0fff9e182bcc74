"""`python -m twinning` is the `twinning` command."""

from twinning.cli import main

main()
