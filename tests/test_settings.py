"""Settings: defaults < TOML file < environment < command line; bad values name the key."""

from __future__ import annotations

import dataclasses
import logging
import tomllib
from pathlib import Path

import pytest

from indexer.errors import ConfigError
from indexer.settings import Settings, load_settings

PROJECT = Path(__file__).resolve().parent.parent


def test_documented_file_holds_every_key_with_its_default() -> None:
    documented = tomllib.loads((PROJECT / "config" / "indexer.toml").read_text())["indexer"]
    defaults = Settings()
    keys = {f.name for f in dataclasses.fields(Settings)}
    assert set(documented) | {"github_token", "registry_username", "registry_password"} == keys
    for key, value in documented.items():
        expected = getattr(defaults, key)
        assert (tuple(value) if isinstance(value, list) else value) == expected, key


def test_precedence_file_then_environment_then_options(tmp_path: Path) -> None:
    config = tmp_path / "indexer.toml"
    config.write_text('[indexer]\nconcurrency = 4\nbranch = "main"\nhub_url = "http://file"\n')
    settings = load_settings(
        config_path=config,
        environ={"INDEXER_CONCURRENCY": "8", "INDEXER_HUB_URL": "http://env"},
        overrides={"hub_url": "http://option", "branch": None},
    )
    assert settings.concurrency == 8
    assert settings.branch == "main"
    assert settings.hub_url == "http://option"


def test_indexer_config_names_another_file(tmp_path: Path) -> None:
    config = tmp_path / "other.toml"
    config.write_text(
        "schedule = '*/5 * * * *'\nallowed_git_hosts = ['github.com', 'gitlab.com']\n"
    )
    settings = load_settings(environ={"INDEXER_CONFIG": str(config)})
    assert settings.schedule == "*/5 * * * *"
    assert settings.allowed_git_hosts == ("github.com", "gitlab.com")


def test_environment_lists_and_booleans() -> None:
    settings = load_settings(
        environ={
            "INDEXER_ALLOWED_GIT_HOSTS": "github.com, example.org",
            "INDEXER_RUN_AT_START": "yes",
        }
    )
    assert settings.allowed_git_hosts == ("github.com", "example.org")
    assert settings.run_at_start is True


@pytest.mark.parametrize(
    ("environ", "key"),
    [
        ({"INDEXER_CONCURRENCY": "many"}, "concurrency"),
        ({"INDEXER_CONCURRENCY": "0"}, "concurrency"),
        ({"INDEXER_HUB_URL": "ftp://hub"}, "hub_url"),
        ({"INDEXER_SCHEDULE": "nightly"}, "schedule"),
        ({"INDEXER_RUN_AT_START": "perhaps"}, "run_at_start"),
        ({"INDEXER_DATABASE_URL": "indexer.db"}, "database_url"),
        ({"INDEXER_CONFIG": "/nonexistent/indexer.toml"}, "INDEXER_CONFIG"),
    ],
)
def test_invalid_values_name_the_key(environ: dict[str, str], key: str) -> None:
    with pytest.raises(ConfigError) as caught:
        load_settings(environ=environ)
    assert caught.value.key == key
    assert key in str(caught.value)


def test_unknown_key_in_file_is_refused(tmp_path: Path) -> None:
    config = tmp_path / "indexer.toml"
    config.write_text("[indexer]\nconcurency = 3\n")
    with pytest.raises(ConfigError, match="concurency"):
        load_settings(config_path=config, environ={})


def test_cli_reports_bad_setting_with_exit_2(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from indexer.cli.main import main

    monkeypatch.setenv("INDEXER_CONCURRENCY", "-3")
    assert main(["runs"]) == 2
    assert "concurrency" in capsys.readouterr().err


def test_unknown_variables_are_warned_about_with_a_suggestion(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.WARNING, logger="indexer.settings")
    settings = load_settings(
        environ={
            "INDEXER_CONCURENCY": "3",
            "INDEXER_CONCURRENCY": "5",
            "INDEXER_CORPUS": "/corpus",
            "INDEXER_TEST_POSTGRES_URL": "postgresql://x",
            "OTHER_VARIABLE": "x",
        }
    )
    assert settings.concurrency == 5
    assert caplog.messages == [
        "unknown environment variable INDEXER_CONCURENCY is ignored; "
        "did you mean INDEXER_CONCURRENCY?"
    ]


def test_tables_outside_indexer_are_warned_about(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="indexer.settings")
    config = tmp_path / "indexer.toml"
    config.write_text(
        "concurrency = 2\n[indexer]\nconcurrency = 3\n[scheduler]\nschedule = '1 2 * * *'\n"
    )
    settings = load_settings(config_path=config, environ={})
    assert settings.concurrency == 3
    assert settings.schedule == Settings().schedule
    assert caplog.messages == [
        f"{config}: key 'concurrency' is not read (settings belong in [indexer])",
        f"{config}: table [scheduler] is not read (settings belong in [indexer])",
    ]


@pytest.mark.parametrize(
    "url",
    [
        "sqlite:///x.db",
        "sqlite+aiosqlite:///x.db",
        "postgresql://u@h/d",
        "postgres://u@h/d",
        "postgresql+asyncpg://u@h/d",
    ],
)
def test_supported_database_urls(url: str) -> None:
    assert load_settings(environ={"INDEXER_DATABASE_URL": url}).database_url == url
