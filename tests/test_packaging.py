"""The built wheel works on its own: migrate, sync and show from outside the checkout.

The wheel is built from this checkout and installed (without dependencies) into a
fresh virtual environment in a temporary folder; the dependencies come from the
project's environment through a path entry placed after the fresh site-packages, so
the ``indexer`` that runs is the wheel's, never the checkout's (checked). Every
command runs with a working directory outside the checkout, where no
``migrations/`` or ``config/`` lies.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import sysconfig
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.corpus import PROJECT_ROOT
from tests.sync.helpers import MiniCorpus
from tests.sync.minis import write_app
from tests.sync.test_cli import replay_thread

pytestmark = pytest.mark.slow


class Installed:
    """The fresh environment: its interpreter and its ``indexer`` console script."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.python = root / "bin" / "python"
        self.indexer = root / "bin" / "indexer"

    def run(self, *args: str, cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(self.indexer), *args],
            capture_output=True,
            text=True,
            cwd=cwd,
            env=env,
            timeout=120,
            check=False,
        )


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Installed]:
    dist = tmp_path_factory.mktemp("dist")
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "-w", str(dist), "."],
        cwd=PROJECT_ROOT,
        check=True,
        capture_output=True,
    )
    (wheel,) = dist.glob("indexer-*.whl")
    root = tmp_path_factory.mktemp("fresh") / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(root)], check=True)
    fresh = Installed(root)
    subprocess.run(
        [
            *(sys.executable, "-m", "pip", "--python", str(fresh.python), "install"),
            *("--quiet", "--no-deps", "--no-index", str(wheel)),
        ],
        check=True,
        capture_output=True,
    )
    site = subprocess.run(
        [str(fresh.python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    # the dependencies: the project environment's site-packages, after the wheel's
    (Path(site) / "zz_project_dependencies.pth").write_text(
        sysconfig.get_paths()["purelib"] + "\n", encoding="utf-8"
    )
    yield fresh


def _environment(**values: str) -> dict[str, str]:
    keep = {k: v for k, v in os.environ.items() if not k.startswith(("INDEXER_", "PYTHON"))}
    return {**keep, **values}


def test_the_installed_package_is_the_wheel(installed: Installed, tmp_path: Path) -> None:
    script = "import indexer, indexer.store.migrate as m; print(indexer.__file__); print(m.migrations_dir())"
    result = subprocess.run(
        [str(installed.python), "-c", script],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env=_environment(),
        check=True,
    )
    package, migrations = result.stdout.split()
    assert Path(package).is_relative_to(installed.root)
    assert Path(migrations).is_relative_to(installed.root)
    assert not Path(package).is_relative_to(PROJECT_ROOT)
    assert sorted(p.name for p in (Path(migrations) / "versions").glob("*.py")) == sorted(
        p.name for p in (PROJECT_ROOT / "migrations" / "versions").glob("*.py")
    )


def test_migrate_sync_and_show_from_the_wheel(
    installed: Installed, empty_database_url: str, tmp_path: Path
) -> None:
    corpus = MiniCorpus(tmp_path / "corpus", "only")
    write_app(corpus, "app")
    workdir = tmp_path / "elsewhere"
    workdir.mkdir()
    with replay_thread(tmp_path / "corpus", "only") as replay:
        env = _environment(INDEXER_DATABASE_URL=empty_database_url, **replay.env())
        migrate = installed.run("migrate", cwd=workdir, env=env)
        assert migrate.returncode == 0, migrate.stderr
        assert "upgraded from an empty database to revision" in migrate.stderr
        sync = installed.run("sync", "--only", "app", "--json", cwd=workdir, env=env)
        assert sync.returncode == 0, sync.stderr
        assert json.loads(sync.stdout)["status"] == "ok"
    show = installed.run("show", "app:1", "--json", cwd=workdir, env=env)
    assert show.returncode == 0, show.stderr
    view = json.loads(show.stdout)
    assert view["canonical_tag"] == "1.0"
    assert {p["architecture"]: p["parent"] for p in view["platforms"]} == {
        "amd64": "debian:bookworm",
        "arm64v8": "debian:bookworm",
    }
    again = installed.run("migrate", cwd=workdir, env=env)
    assert again.returncode == 0
    assert "already at revision" in again.stderr
    assert not (workdir / "migrations").exists()
