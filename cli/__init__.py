"""The ``akhbar`` command line (an interface layer: it may import every other package).

``cli/main.py`` assembles the commands of ``cli/commands/``; ``python -m cli`` runs it."""
