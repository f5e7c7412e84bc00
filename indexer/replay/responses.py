"""Answer helpers shared by the replay handlers: JSON and text bodies, error shapes."""

from __future__ import annotations

import json
from http import HTTPStatus
from typing import Any

from aiohttp import web

__all__ = [
    "JSON_TYPE",
    "TEXT_TYPE",
    "base_url",
    "github_error",
    "hub_error",
    "json_response",
    "raw_not_found",
    "text_response",
]

JSON_TYPE = "application/json; charset=utf-8"
TEXT_TYPE = "text/plain; charset=utf-8"


def base_url(request: web.Request, prefix: str) -> str:
    """``scheme://host/prefix`` of this server as the client addressed it (its Host header)."""
    return f"{request.scheme}://{request.host}{prefix}"


def json_response(
    payload: Any | bytes, *, status: int = 200, headers: dict[str, str] | None = None
) -> web.Response:
    """A JSON answer; ``payload`` may be pre-rendered bytes."""
    body = (
        payload
        if isinstance(payload, bytes)
        else json.dumps(payload, separators=(",", ":")).encode()
    )
    response = web.Response(body=body, status=status, headers=headers)
    response.headers["Content-Type"] = JSON_TYPE
    return response


def hub_error(status: int, errinfo: dict[str, str] | None = None) -> web.Response:
    """A Docker Hub error answer: ``{"message": "httperror 404: object not found", ...}``."""
    reason = "object not found" if status == 404 else HTTPStatus(status).phrase.lower()
    return json_response(
        {"message": f"httperror {status}: {reason}", "errinfo": errinfo or {}}, status=status
    )


def github_error(status: int, message: str, documentation_url: str) -> web.Response:
    """A GitHub REST error answer: ``{"message", "documentation_url", "status"}``."""
    return json_response(
        {"message": message, "documentation_url": documentation_url, "status": str(status)},
        status=status,
    )


def raw_not_found() -> web.Response:
    """raw.githubusercontent.com's 404: the text ``404: Not Found``."""
    return text_response(b"404: Not Found", status=404)


def text_response(
    body: bytes, *, status: int = 200, headers: dict[str, str] | None = None
) -> web.Response:
    """A ``text/plain; charset=utf-8`` answer."""
    response = web.Response(body=body, status=status, headers=headers)
    response.headers["Content-Type"] = TEXT_TYPE
    return response
