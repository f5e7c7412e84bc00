"""The JSON answers of the pages are the CLI's ``--json`` shapes, on the same database.

Both backends; the CLI runs in-process (it starts its own event loop, so these tests are
synchronous and run the web requests with ``asyncio.run``).
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest

from indexer.cli.main import main
from tests.web.conftest import JSON, served

pytestmark = pytest.mark.corpus


def cli_json(url: str, capsys: pytest.CaptureFixture[str], *args: str) -> Any:
    status = main(["--database-url", url, *args, "--json"])
    captured = capsys.readouterr()
    assert status == 0, captured.err
    return json.loads(captured.out)


async def fetch_json(url: str, path: str) -> Any:
    async with served(url) as client:
        response = await client.get(path, headers=JSON)
        assert response.status == 200
        assert response.content_type == "application/json"
        return await response.json()


def test_tag_page_json_is_the_clis(corpus_url: str, capsys: pytest.CaptureFixture[str]) -> None:
    data = asyncio.run(fetch_json(corpus_url, "/t/python:3-slim"))
    assert data["show"] == cli_json(corpus_url, capsys, "show", "python:3-slim")
    assert data["explain"] == cli_json(corpus_url, capsys, "explain", "python:3-slim")
    assert data["children"] == cli_json(
        corpus_url, capsys, "children", "python:3-slim", "--recursive"
    )
    assert data["history"] == cli_json(corpus_url, capsys, "history", "python:3-slim")
    assert data["graph"] == cli_json(corpus_url, capsys, "graph", "python:3-slim")


async def runs_json_and_html(url: str) -> tuple[Any, str]:
    async with served(url) as client:
        data = await (await client.get("/runs", headers=JSON)).json()
        html = await (await client.get("/runs")).text()
    return data, html


def test_runs_page(corpus_url: str, capsys: pytest.CaptureFixture[str]) -> None:
    data, html = asyncio.run(runs_json_and_html(corpus_url))
    expected = cli_json(corpus_url, capsys, "runs")
    assert [run["id"] for run in data] == [run["id"] for run in expected]
    assert [run["status"] for run in data] == [run["status"] for run in expected]
    assert data[0]["errors"] == expected[0]["errors"]
    assert f'id="run-{data[0]["id"]}"' in html
    for top in data[0]["top_errors"]:
        assert top["error_kind"] in html
