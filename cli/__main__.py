"""``python -m cli ...``: the same as the ``akhbar`` console script."""

from cli.main import main

main()
