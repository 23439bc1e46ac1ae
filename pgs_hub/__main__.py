"""``python -m pgs_hub`` is the ``pgs`` command."""

from pgs_hub.hub.cli import main

main()
