"""The hub's database migrations (Alembic). ``hub.storage.migrate`` runs them; see ``env.py``."""
