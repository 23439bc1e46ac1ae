"""The PGS protocol: routing header, message content models, code lists and the envelope binding.

Pure code: no network, no clock (callers pass ``now``); it reads only its own packaged code lists.
"""

# One import root (docs/design/hub.md): this folder is the package
# pgs_hub.protocols; under another name its modules would be loaded twice.
if __name__ != "pgs_hub.protocols":
    raise ImportError(f"import pgs_hub.protocols, not {__name__}")
