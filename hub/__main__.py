"""``python -m hub`` is the ``pgs`` command."""

from hub.cli import main

main()
