"""Global Shield Hub: server, storage, policy, delivery, client SDK and the ``pgs`` command."""

# One import root (docs/design/hub.md): this folder is the package
# pgs_hub.hub; under another name its modules would be loaded twice.
if __name__ != "pgs_hub.hub":
    raise ImportError(f"import pgs_hub.hub, not {__name__}")
