"""The demos ``make demo`` runs: a real hub over real sockets, or (``--offline``) no hub at all."""
