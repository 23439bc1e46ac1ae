"""The async hub client (SDK)."""

from hub.client.client import HubClient
from hub.client.errors import HubClientError, TrustError

__all__ = ["HubClient", "HubClientError", "TrustError"]
