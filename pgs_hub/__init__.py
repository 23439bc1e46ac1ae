"""Global Shield Hub, installed as one package: ``pgs_hub.hub`` (server, storage, policy,
client, the ``pgs`` command), ``pgs_hub.crypto`` (the pure JOSE profile and log core),
``pgs_hub.protocols`` (the pure PGS protocol) and ``pgs_hub.migrations`` (Alembic).

In the repository the four live in the top-level folders ``hub/``, ``crypto/``, ``protocols/`` and
``migrations/``; this folder links to them (``pgs_hub/hub -> ../hub``...), so that the checkout and
the installed wheel use the same module names and nothing generic lands in site-packages
(docs/design/hub.md, "One import root").
"""
