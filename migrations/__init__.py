"""The hub's database migrations (Alembic). ``hub.storage.migrate`` runs them; see ``env.py``."""

from typing import Final

# The newest revision's id: what ``pgs serve`` needs the database to be at, known without loading
# Alembic (hub.storage.revision). A new revision changes it; tests/storage/test_storage_schema.py
# fails until it equals Alembic's own head.
HEAD: Final = "0011"

# One import root (docs/design/hub.md): this folder is the package
# pgs_hub.migrations; under another name its modules would be loaded twice.
if __name__ != "pgs_hub.migrations":
    raise ImportError(f"import pgs_hub.migrations, not {__name__}")
