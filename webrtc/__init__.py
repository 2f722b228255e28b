"""The live try-on server (aiohttp + aiortc) and the shopper's page; built in the live-server issue."""
