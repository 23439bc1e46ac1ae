"""The async hub client (SDK)."""

from pgs_hub.hub.client.client import HubClient
from pgs_hub.hub.client.errors import HubClientError, TrustError

__all__ = ["HubClient", "HubClientError", "TrustError"]
