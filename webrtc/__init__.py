"""The live try-on server (aiohttp + aiortc) and the shopper's page.

``create_app(ServerConfig(...))`` builds the aiohttp application; ``tryon serve`` runs it.
"""

from webrtc.app import create_app
from webrtc.config import IceServer, ServerConfig

__all__ = ["IceServer", "ServerConfig", "create_app"]
