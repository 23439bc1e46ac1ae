"""Typed application and request keys (aiohttp ``AppKey``, ``RequestKey``): what handlers may
take from the app, and what one request carries from middleware to middleware."""

from __future__ import annotations

from aiohttp import web

from pgs_hub.hub.policy.groups import Member
from pgs_hub.hub.services.context import HubContext

CTX = web.AppKey("ctx", HubContext)

#: The participant a request was authenticated as: whose refusal it is, if one follows.
AUTHENTICATED = web.RequestKey("pgs_authenticated", Member)
