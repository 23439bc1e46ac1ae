"""The hub's database migrations (Alembic). ``hub.storage.migrate`` runs them; see ``env.py``."""

# One import root (docs/design/hub.md): this folder is the package
# pgs_hub.migrations; under another name its modules would be loaded twice.
if __name__ != "pgs_hub.migrations":
    raise ImportError(f"import pgs_hub.migrations, not {__name__}")
