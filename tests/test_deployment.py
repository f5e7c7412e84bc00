"""docker-compose.yml and the Dockerfile hold together (no Docker engine runs here).

The checks mirror what `docker compose config` validates for this file: known
top-level keys, every service with an image or a build, dependencies on existing
services with valid conditions, healthchecks in the documented form, anchors
resolved. Then what the deployment needs: PostgreSQL, then the migration, then the
services on the indexer image; a sync at start; and every ``indexer`` command a
service or healthcheck runs parses against the real command line (the click group
as it is now, so commands added later are accepted as they come).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import click
import pytest
import yaml

from indexer.cli.main import cli

PROJECT = Path(__file__).resolve().parent.parent
TOP_LEVEL = {"name", "services", "volumes", "networks", "configs", "secrets"}
CONDITIONS = {"service_started", "service_healthy", "service_completed_successfully"}


def _compose() -> dict[str, Any]:
    data = yaml.safe_load((PROJECT / "docker-compose.yml").read_text())
    assert isinstance(data, dict)
    return data


def _indexer_services(services: dict[str, Any]) -> dict[str, Any]:
    """The services built from this project's Dockerfile (entry point ``indexer``)."""
    return {name: service for name, service in services.items() if service.get("build") == "."}


def _indexer_commands(services: dict[str, Any]) -> Iterator[tuple[str, list[str]]]:
    """Each ``indexer`` argument list a service runs: its command and its healthcheck."""
    for name, service in _indexer_services(services).items():
        yield name, list(service.get("command", ["schedule", "--run-now"]))
        test = service.get("healthcheck", {}).get("test")
        if test is None:
            continue
        assert test[0] == "CMD", f"{name}: the healthcheck runs a program directly"
        if test[1] == "indexer":  # the web view's healthcheck asks its own HTTP port instead
            yield f"{name} healthcheck", list(test[2:])


def _parse(args: list[str]) -> click.Command:
    """Parse ``indexer ARGS`` the way the console script would, without running it."""
    assert args, "no command"
    assert not args[0].startswith("-"), "settings come from the environment, not options"
    root = click.Context(cli, info_name="indexer")
    command = cli.get_command(root, args[0])
    assert command is not None, f"no such command: indexer {args[0]}"
    with command.make_context(args[0], args[1:], parent=root):
        pass
    return command


def test_compose_structure_is_valid() -> None:
    data = _compose()
    assert {key for key in data if not key.startswith("x-")} <= TOP_LEVEL
    services = data["services"]
    assert {"postgres", "migrate", "scheduler", "web"} <= set(services)
    for name, service in services.items():
        assert ("image" in service) != ("build" in service), name
        for dependency, spec in service.get("depends_on", {}).items():
            assert dependency in services, (name, dependency)
            assert spec["condition"] in CONDITIONS
        if "healthcheck" in service:
            test = service["healthcheck"]["test"]
            assert test[0] in ("CMD", "CMD-SHELL")
        for volume in service.get("volumes", []):
            source = volume.split(":", 1)[0]
            assert source in data.get("volumes", {}), source


def test_postgres_then_migration_then_every_indexer_service() -> None:
    services = _compose()["services"]
    assert services["migrate"]["command"] == ["migrate"]
    assert services["migrate"]["depends_on"]["postgres"]["condition"] == "service_healthy"
    assert services["migrate"]["restart"] == "no"
    for name, service in _indexer_services(services).items():
        url = service["environment"]["INDEXER_DATABASE_URL"]
        assert url.startswith("postgresql+asyncpg://") and "@postgres:5432/" in url, name
        if name == "migrate":
            continue
        depends = service["depends_on"]
        assert depends["migrate"]["condition"] == "service_completed_successfully", name
        assert depends["postgres"]["condition"] == "service_healthy", name


def test_scheduler_syncs_at_start_and_has_a_healthcheck() -> None:
    scheduler = _compose()["services"]["scheduler"]
    assert scheduler["command"][0] == "schedule"
    assert "--run-now" in scheduler["command"]
    assert "healthcheck" in scheduler
    assert scheduler["stop_grace_period"] == "2m"


@pytest.mark.parametrize("where", ["service", "healthcheck"])
def test_every_command_run_is_a_real_cli_command(where: str) -> None:
    commands = list(_indexer_commands(_compose()["services"]))
    assert commands
    for name, args in commands:
        if (where == "healthcheck") != name.endswith("healthcheck"):
            continue
        try:
            _parse(args)
        except click.ClickException as exc:
            pytest.fail(f"{name}: indexer {' '.join(args)}: {exc.format_message()}")


def test_command_parsing_refuses_what_the_cli_refuses() -> None:
    with pytest.raises(AssertionError, match="no such command"):
        _parse(["nosuch"])
    with pytest.raises(click.NoSuchOption):
        _parse(["schedule", "--run-later"])
    with pytest.raises(click.BadParameter):
        _parse(["runs", "--limit", "0"])


def test_dockerfile_installs_the_package_and_runs_outside_the_source() -> None:
    dockerfile = (PROJECT / "Dockerfile").read_text()
    assert "COPY migrations /src/migrations" in dockerfile
    assert "pip install --no-cache-dir /src" in dockerfile
    assert "rm -rf /src" in dockerfile
    assert 'ENTRYPOINT ["indexer"]' in dockerfile
    for source in ("pyproject.toml", "README.md", "indexer", "migrations"):
        assert (PROJECT / source).exists(), source


def test_compose_serves_the_web_view_on_the_same_database() -> None:
    services = _compose()["services"]
    web = services["web"]
    assert web["command"][0] == "serve"
    assert web["command"][web["command"].index("--host") + 1] == "0.0.0.0"
    assert web["depends_on"]["migrate"]["condition"] == "service_completed_successfully"
    assert web["environment"] == services["scheduler"]["environment"]
    port = web["command"][web["command"].index("--port") + 1]
    assert any(str(mapping).endswith(f":{port}") for mapping in web["ports"])
