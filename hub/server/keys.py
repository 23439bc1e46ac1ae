"""Typed application keys (aiohttp ``AppKey``): what handlers may take from the app."""

from __future__ import annotations

from aiohttp import web

from hub.services.context import HubContext

CTX = web.AppKey("ctx", HubContext)
