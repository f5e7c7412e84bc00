"""``indexer serve`` as a command: its errors are one ``indexer:`` line, never a traceback.

(Serving and stopping on SIGTERM are exercised by the browser tests, which run it.)
"""

from __future__ import annotations

import socket

import pytest

from indexer.cli.main import main


def test_a_port_in_use_is_one_line_and_status_2(
    database_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        status = main(["--database-url", database_url, "serve", "--port", str(port)])
    err = capsys.readouterr().err
    assert status == 2
    assert err.startswith(f"indexer: cannot listen on 127.0.0.1:{port}")
    assert len(err.strip().splitlines()) == 1


def test_an_unreachable_database_is_one_line_and_status_2(
    capsys: pytest.CaptureFixture[str],
) -> None:
    url = "postgresql+asyncpg://nobody@127.0.0.1:1/none"
    status = main(["--database-url", url, "serve", "--port", "0"])
    err = capsys.readouterr().err
    assert status == 2
    assert err.startswith("indexer: cannot connect to database")
    assert "Traceback" not in err


def test_serve_help(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["serve", "--help"]) == 0
    out = capsys.readouterr().out
    assert "--host" in out and "--port" in out and "application/json" in out
