"""The PGS protocol: routing header, message content models, code lists and the envelope binding.

Pure code: no network, no clock (callers pass ``now``); it reads only its own packaged code lists.
"""
