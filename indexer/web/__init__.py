"""The read-only web view of the index (``indexer serve``): server-rendered HTML, JSON on request.

- :mod:`.app`: the aiohttp application, its routes and middlewares;
- :mod:`.pages`: what each page reads through the store's query functions;
- :mod:`.search`: the search box (any REF form, near misses);
- :mod:`.variants`: the variants table with sizes as bars;
- :mod:`.layout`: the layered layout of the lineage picture (inline SVG);
- :mod:`.caching`: caching headers keyed to the last sync;
- :mod:`.templates`: the Jinja environment (autoescaped) and its filters;
- :mod:`.server`: run it until a signal.
"""

from __future__ import annotations

from indexer.web.app import create_app
from indexer.web.server import serve

__all__ = ["create_app", "serve"]
