"""Global Shield Hub: server, storage, policy, delivery, client SDK and the ``pgs`` command."""
