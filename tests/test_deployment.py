"""docker-compose.yml and the Dockerfile hold together (no Docker engine runs here).

The checks mirror what `docker compose config` validates for this file: known
top-level keys, every service with an image or a build, dependencies on existing
services with valid conditions, healthchecks in the documented form, anchors resolved.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

PROJECT = Path(__file__).resolve().parent.parent
TOP_LEVEL = {"name", "services", "volumes", "networks", "configs", "secrets"}
CONDITIONS = {"service_started", "service_healthy", "service_completed_successfully"}


def _compose() -> dict[str, Any]:
    data = yaml.safe_load((PROJECT / "docker-compose.yml").read_text())
    assert isinstance(data, dict)
    return data


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


def test_compose_runs_migration_then_scheduler_on_postgres() -> None:
    services = _compose()["services"]
    assert services["migrate"]["command"] == ["migrate"]
    assert services["migrate"]["depends_on"]["postgres"]["condition"] == "service_healthy"
    scheduler = services["scheduler"]
    assert scheduler["command"] == ["schedule"]
    assert scheduler["depends_on"]["migrate"]["condition"] == "service_completed_successfully"
    assert "healthcheck" in scheduler
    url = scheduler["environment"]["INDEXER_DATABASE_URL"]
    assert url.startswith("postgresql+asyncpg://") and "@postgres:5432/" in url


def test_dockerfile_builds_the_package_with_migrations() -> None:
    dockerfile = (PROJECT / "Dockerfile").read_text()
    assert "COPY migrations ./migrations" in dockerfile
    assert 'ENTRYPOINT ["indexer"]' in dockerfile
    for source in ("pyproject.toml", "indexer", "migrations", "config"):
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
