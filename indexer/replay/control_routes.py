"""Control endpoints under ``/_replay/`` (never faulted, never counted).

- ``GET /_replay/snapshot``: ``{snapshot, commit, snapshots}``;
  ``POST /_replay/snapshot/{name}``: serve another snapshot (404 if unknown).
- ``GET /_replay/faults``; ``POST /_replay/faults`` with a JSON object holding any of
  ``latency_ms``, ``fail_rate``, ``truncate_rate``, ``rate_limit`` (``null``: off),
  ``rate_burst``;
  answers the settings now in force (400 on unknown keys or bad values).
- ``GET /_replay/counters``; ``POST /_replay/counters/reset``.
"""

from __future__ import annotations

import dataclasses
import json
from typing import Any

from aiohttp import web

from indexer.replay.corpus import UnknownSnapshotError
from indexer.replay.faults import FaultSettings
from indexer.replay.responses import json_response
from indexer.replay.state import STATE_KEY, ReplayState

__all__ = ["CONTROL_PREFIX", "add_control_routes"]

CONTROL_PREFIX = "/_replay/"
_FAULT_KEYS = frozenset(f.name for f in dataclasses.fields(FaultSettings))


def _snapshot_json(state: ReplayState) -> dict[str, Any]:
    return {
        "snapshot": state.snapshot.name,
        "commit": state.snapshot.commit,
        "snapshots": [s.name for s in state.corpus.snapshots],
    }


async def get_snapshot(request: web.Request) -> web.Response:
    """The snapshot served now."""
    return json_response(_snapshot_json(request.app[STATE_KEY]))


async def post_snapshot(request: web.Request) -> web.Response:
    """Switch to the snapshot named in the path."""
    state = request.app[STATE_KEY]
    try:
        state.switch_snapshot(request.match_info["name"])
    except UnknownSnapshotError as error:
        return json_response({"message": str(error)}, status=404)
    return json_response(_snapshot_json(state))


async def get_faults(request: web.Request) -> web.Response:
    """The fault settings in force."""
    return json_response(dataclasses.asdict(request.app[STATE_KEY].faults))


async def post_faults(request: web.Request) -> web.Response:
    """Change some fault settings."""
    state = request.app[STATE_KEY]
    try:
        changes = json.loads(await request.read() or b"{}")
    except ValueError:
        return json_response({"message": "body is not JSON"}, status=400)
    if not isinstance(changes, dict) or not set(changes) <= _FAULT_KEYS:
        return json_response(
            {"message": f"expected an object with keys {sorted(_FAULT_KEYS)}"}, status=400
        )
    try:
        faults = state.set_faults(**changes)
    except (TypeError, ValueError) as error:
        return json_response({"message": str(error)}, status=400)
    return json_response(dataclasses.asdict(faults))


async def get_counters(request: web.Request) -> web.Response:
    """Every counter."""
    return json_response(request.app[STATE_KEY].counters.to_json())


async def reset_counters(request: web.Request) -> web.Response:
    """Zero every counter."""
    state = request.app[STATE_KEY]
    state.counters.reset()
    return json_response(state.counters.to_json())


def add_control_routes(app: web.Application) -> None:
    """Register the ``/_replay/`` routes on ``app``."""
    app.router.add_get("/_replay/snapshot", get_snapshot)
    app.router.add_post("/_replay/snapshot/{name}", post_snapshot)
    app.router.add_get("/_replay/faults", get_faults)
    app.router.add_post("/_replay/faults", post_faults)
    app.router.add_get("/_replay/counters", get_counters)
    app.router.add_post("/_replay/counters/reset", reset_counters)
