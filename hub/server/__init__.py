"""The web layer of the hub: the aiohttp application, its middleware and its API handlers.

Handlers authenticate, parse, call one service and serialize its answer (protocols.api); they never
reach the storage layer (the layers contract in pyproject.toml)."""
