"""A C2SP tlog-witness (c2sp.org/tlog-witness) that a member administration runs on its own
machine: ``pgs witness init|key|serve``. It cosigns a log's checkpoints only when they extend the
last one it cosigned, so a hub that shows different trees to different readers cannot get both
views cosigned (docs/audit-log.md)."""
