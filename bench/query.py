"""Benchmark: every query command and README example on an index of a million tags (PostgreSQL).

Usage::

    .venv/bin/python bench/query.py [--postgres URL] [--database NAME [--rebuild]]
                                    [--corpus DIR] [--repositories 2500] [--iterations 200]
                                    [--docs-iterations 20] [--explain] [--keep] [--json]
    .venv/bin/python bench/query.py --sqlite [--corpus DIR] [--docs-iterations 20]

Builds a database next to the one ``--postgres`` names (default
``$INDEXER_TEST_POSTGRES_URL`` or the local ``test`` database): ``--database NAME``
builds it once into NAME and keeps it, and a later run reuses it (migrated to the
newest revision, whose upgrades fill what they add, then analysed); without it a
database named after the process is built and dropped (unless ``--keep``). Building
migrates it and bulk-loads (asyncpg ``COPY``):

- the corpus: every ``dense-current`` library file (``parse_library_file``), the
  parents the corpus oracle records for each build, and every Hub tag of
  ``hub/*.json.gz`` with its platform images;
- synthetic repositories built on real bases (a few percent on
  ``debian:bookworm-slim`` or its alias ``debian:12-slim``, directly or through
  other synthetic images, so its descendants number in the thousands), with
  Hub-only historical tags, until there are at least a million tags;

then links the parents with the store's ``link_parents`` (which also fills
``build_chains``; timed, and timed again as a no-change call).

It then times, each in a session of its own on one pool as a long-running process
would, the store functions behind every query command (``show``, ``children`` with
and without ``--recursive``, ``explain``, ``graph`` with and without
``--descendants``, ``history``) and every SQL example of the README's "SQL views"
section, and prints p50 and p99 against the goals (p99 under 50 ms and 200 ms), with
the time spent in statements and in garbage collection. It also times the
``build_chains`` and ``parent_refs`` refreshes with nothing changed and after one base
moved (rolled back).
``--explain`` prints ``EXPLAIN (ANALYZE, BUFFERS)`` of the slowest statement of the
slowest sample of every query over its goal.

``--sqlite`` instead syncs the corpus through the replay upstream into a SQLite file
and times the README examples there (goal: p99 under 100 ms).
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import gzip
import json
import os
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

PROJECT_ROOT = Path(__file__).resolve().parent.parent
if str(PROJECT_ROOT) not in sys.path:
    sys.path.insert(0, str(PROJECT_ROOT))

import asyncpg  # noqa: E402 - after the path set-up above
from sqlalchemy import event, text  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402
from sqlalchemy.ext.asyncio import AsyncSession  # noqa: E402

from indexer.errors import ImageReferenceError  # noqa: E402
from indexer.parsing import parse_library_file  # noqa: E402
from indexer.platforms import bashbrew_arch, hub_platform  # noqa: E402
from indexer.process import freeze_startup_objects  # noqa: E402
from indexer.refs import normalize_ref, split_ref  # noqa: E402
from indexer.replay import Corpus, ReplayServer  # noqa: E402
from indexer.settings import Settings  # noqa: E402
from indexer.store import queries  # noqa: E402
from indexer.store.closure import refresh_build_chains  # noqa: E402
from indexer.store.db import Database  # noqa: E402
from indexer.store.links import link_parents as link_parent_stanzas  # noqa: E402
from indexer.store.migrate import upgrade  # noqa: E402
from indexer.store.parent_refs import refresh_parent_refs  # noqa: E402
from indexer.store.read.session import SessionReader  # noqa: E402
from indexer.sync import run_sync  # noqa: E402

DEFAULT_ADMIN_URL = "postgresql+asyncpg://postgres@127.0.0.1:5432/test"
SNAPSHOT = "dense-current"
TARGET_TAGS = 1_000_000
NOW = datetime(2026, 11, 1, 3, tzinfo=UTC)
SEED = 20261128

#: real bases synthetic images build on, with their weight; bookworm-slim is kept to a few
#: percent so that its descendants are thousands, not most of the index
REAL_BASES: tuple[tuple[str, float], ...] = (
    ("debian:bookworm-slim", 0.015),
    ("debian:12-slim", 0.005),
    ("debian:trixie-slim", 0.20),
    ("debian:trixie", 0.08),
    ("debian:bookworm", 0.04),
    ("alpine:3.23", 0.20),
    ("alpine:3.22", 0.08),
    ("ubuntu:24.04", 0.10),
    ("ubuntu:22.04", 0.04),
    ("python:3.13-slim-trixie", 0.04),
    ("node:24-trixie-slim", 0.04),
    ("eclipse-temurin:21-jdk-noble", 0.04),
)
#: share of synthetic repositories built on another synthetic repository (deeper chains)
SYNTHETIC_PARENT_SHARE = 0.20
STANZAS_PER_REPOSITORY = 40
ALIASES_PER_STANZA = 4
HUB_ONLY_TAGS_PER_REPOSITORY = 240
LINUX_ARCHES = ("amd64", "arm64v8", "arm32v7", "ppc64le", "s390x")


def default_corpus() -> Path:
    configured = os.environ.get("INDEXER_CORPUS")
    return Path(configured) if configured else PROJECT_ROOT.parent / "shared" / "corpus"


def _dsn(url: str, database: str | None = None) -> str:
    parsed = make_url(url).set(drivername="postgresql")
    if database is not None:
        parsed = parsed.set(database=database)
    return parsed.render_as_string(hide_password=False)


def _async_url(url: str, database: str) -> str:
    return (
        make_url(url)
        .set(drivername="postgresql+asyncpg", database=database)
        .render_as_string(hide_password=False)
    )


# --------------------------------------------------------------------------- rows


@dataclass
class Rows:
    """Every row to COPY, with ids assigned here."""

    repositories: dict[str, int] = field(default_factory=dict)
    tags: dict[tuple[int, str], list[Any]] = field(default_factory=dict)
    stanzas: list[list[Any]] = field(default_factory=list)
    stanza_tags: list[tuple[int, int, bool, int]] = field(default_factory=list)
    builds: list[list[Any]] = field(default_factory=list)
    hub_images: list[tuple[Any, ...]] = field(default_factory=list)
    history: list[tuple[Any, ...]] = field(default_factory=list)

    def repository(self, name: str) -> int:
        return self.repositories.setdefault(name, len(self.repositories) + 1)

    def tag(self, repository_id: int, name: str) -> list[Any]:
        """The tag row (id, repository_id, name, stanza_id, maintained, digest, last_updated)."""
        key = (repository_id, name)
        row = self.tags.get(key)
        if row is None:
            row = [len(self.tags) + 1, repository_id, name, None, False, None, None]
            self.tags[key] = row
        return row

    def stanza(
        self,
        repository_id: int,
        position: int,
        tags: Sequence[str],
        shared: Sequence[str],
        arches: Sequence[str],
    ) -> int:
        stanza_id = len(self.stanzas) + 1
        self.stanzas.append(
            [stanza_id, repository_id, tags[0], position, list(tags), list(shared), list(arches)]
        )
        for is_shared, names in ((False, tags), (True, shared)):
            for index, name in enumerate(names):
                row = self.tag(repository_id, name)
                if row[3] is None:
                    row[3], row[4] = stanza_id, True
                self.stanza_tags.append((stanza_id, row[0], is_shared, index))
        return stanza_id

    def build(self, stanza_id: int, arch: str, parent_ref: str | None, error: str | None) -> None:
        self.builds.append([len(self.builds) + 1, stanza_id, arch, parent_ref, error])

    def hub_tag(
        self,
        repository_id: int,
        name: str,
        digest: str,
        updated: datetime,
        images: Iterable[tuple[str, str, str | None, str, int]],
    ) -> None:
        row = self.tag(repository_id, name)
        row[5], row[6] = digest, updated
        for os_name, architecture, variant, image_digest, size in images:
            self.hub_images.append(
                (
                    len(self.hub_images) + 1,
                    row[0],
                    os_name,
                    architecture,
                    variant,
                    bashbrew_arch(os_name, architecture, variant),
                    image_digest,
                    size,
                    updated,
                )
            )
        self.history.append((len(self.history) + 1, row[0], digest, updated, updated))


def _oracle_parents(corpus: Path) -> dict[tuple[str, str, str], str | None]:
    parents: dict[tuple[str, str, str], str | None] = {}
    with gzip.open(corpus / "oracle.jsonl.gz", "rt") as lines:
        for line in lines:
            row = json.loads(line)
            if row["snapshot"] == SNAPSHOT:
                parents[(row["repository"], row["tag"], row["arch"])] = row["lastStageFrom"]
    return parents


def _normal(ref: str | None) -> str | None:
    if ref is None:
        return None
    try:
        return normalize_ref(ref)
    except ImageReferenceError:
        return None


def load_corpus(rows: Rows, corpus: Path) -> None:
    """The corpus library (stanzas, builds with the oracle's parents) and its Hub tags."""
    parents = _oracle_parents(corpus)
    for path in sorted((corpus / "library" / SNAPSHOT).iterdir()):
        library = parse_library_file(path.name, path.read_text())
        repository_id = rows.repository(path.name)
        for position, stanza in enumerate(library.stanzas):
            if not stanza.tags:
                continue
            stanza_id = rows.stanza(
                repository_id, position, stanza.tags, stanza.shared_tags, stanza.architectures
            )
            for arch in stanza.architectures:
                parent = _normal(parents.get((path.name, stanza.tags[0], arch)))
                rows.build(stanza_id, arch, parent, None if parent else "no Dockerfile head")
    for path in sorted((corpus / "hub").glob("*.json.gz")):
        data = json.loads(gzip.decompress(path.read_bytes()))
        repository_id = rows.repository(data["repository"])
        for tag in data["tags"]:
            platforms = tag.get("platforms") or []
            updated = max(
                (
                    datetime.fromisoformat(p["last_modified"].replace("Z", "+00:00"))
                    for p in platforms
                ),
                default=NOW,
            )
            rows.hub_tag(
                repository_id,
                tag["name"],
                tag["digest"],
                updated,
                (
                    (p["os"], p["architecture"], p.get("variant"), p["digest"], p["size"])
                    for p in platforms
                ),
            )


def _digest(random_source: random.Random) -> str:
    return f"sha256:{random_source.getrandbits(256):064x}"


def _synthetic_parent(
    random_source: random.Random, bases: Sequence[str], weights: Sequence[float], made: list[str]
) -> str:
    if made and random_source.random() < SYNTHETIC_PARENT_SHARE:
        return random_source.choice(made)
    return random_source.choices(bases, weights)[0]


def load_synthetic(rows: Rows, repositories: int, random_source: random.Random) -> None:
    """Synthetic repositories until the index holds at least TARGET_TAGS tags."""
    names = {rid: name for name, rid in rows.repositories.items()}
    known = {f"{names[repository_id]}:{tag}" for repository_id, tag in rows.tags}
    bases = [base for base, _ in REAL_BASES if base in known]
    weights = [weight for base, weight in REAL_BASES if base in known]
    made: list[str] = []
    index = 0
    while index < repositories or len(rows.tags) < TARGET_TAGS:
        name = f"synth{index:05d}"
        index += 1
        repository_id = rows.repository(name)
        parent_family = _synthetic_parent(random_source, bases, weights, made)
        arches = LINUX_ARCHES[: random_source.randint(1, len(LINUX_ARCHES))]
        for position in range(STANZAS_PER_REPOSITORY):
            suffix = f"v{position}"
            tags = [f"{position}.{minor}.0-{suffix}" for minor in range(ALIASES_PER_STANZA - 1)]
            tags.insert(0, f"{position}.0.1-{suffix}")
            stanza_id = rows.stanza(repository_id, position, tags, (), arches)
            for arch in arches:
                rows.build(stanza_id, arch, parent_family, None)
            for tag in tags:
                rows.hub_tag(
                    repository_id,
                    tag,
                    _digest(random_source),
                    NOW - timedelta(days=position),
                    (
                        (*hub_platform(arch), _digest(random_source), 30_000_000 + position)
                        for arch in arches
                    ),
                )
            if position < 2:
                made.append(f"{name}:{tags[1]}")
        for old in range(HUB_ONLY_TAGS_PER_REPOSITORY):
            rows.hub_tag(
                repository_id,
                f"0.{old}.0-old",
                _digest(random_source),
                NOW - timedelta(days=400 + old),
                [("linux", "amd64", None, _digest(random_source), 25_000_000)],
            )


def link_parents(rows: Rows) -> list[tuple[Any, ...]]:
    """The builds rows with parent_repository/parent_tag split and parent_tag_id linked."""
    ids = rows.repositories
    result = []
    for build_id, stanza_id, arch, parent_ref, error in rows.builds:
        parent_repository = parent_tag = None
        parent_tag_id = None
        if parent_ref is not None:
            parent_repository, parent_tag = split_ref(parent_ref)
            repository_id = ids.get(parent_repository)
            if repository_id is not None and parent_tag is not None:
                row = rows.tags.get((repository_id, parent_tag))
                parent_tag_id = row[0] if row else None
        result.append(
            (
                build_id,
                stanza_id,
                arch,
                "https://github.com/example/bench.git",
                "refs/heads/master",
                "0" * 40,
                ".",
                "Dockerfile",
                "buildkit",
                parent_ref,
                parent_repository,
                parent_tag,
                parent_tag_id,
                json.dumps([parent_ref]) if parent_ref else None,
                error,
            )
        )
    return result


# --------------------------------------------------------------------------- loading


async def copy_rows(connection: asyncpg.Connection, rows: Rows) -> dict[str, int]:
    """COPY every table; answers the row counts."""
    tables: dict[str, tuple[list[str], list[tuple[Any, ...]]]] = {
        "image_repositories": (
            ["id", "name", "maintained"],
            [(rid, name, True) for name, rid in rows.repositories.items()],
        ),
        "stanzas": (
            [
                "id",
                "repository_id",
                "canonical_tag",
                "position",
                "tags",
                "shared_tags",
                "architectures",
                "constraints",
                "maintained",
                "first_seen",
                "last_seen",
            ],
            [
                (
                    sid,
                    rid,
                    canonical,
                    pos,
                    json.dumps(t),
                    json.dumps(s),
                    json.dumps(a),
                    "[]",
                    True,
                    NOW,
                    NOW,
                )
                for sid, rid, canonical, pos, t, s, a in rows.stanzas
            ],
        ),
        "tags": (
            [
                "id",
                "repository_id",
                "name",
                "stanza_id",
                "maintained",
                "digest",
                "last_updated",
                "first_seen",
                "last_seen",
            ],
            [
                (tid, rid, name, sid, maintained, digest, updated, updated, updated)
                for tid, rid, name, sid, maintained, digest, updated in rows.tags.values()
            ],
        ),
        "stanza_tags": (["stanza_id", "tag_id", "shared", "position"], rows.stanza_tags),
        "builds": (
            [
                "id",
                "stanza_id",
                "architecture",
                "git_repo",
                "git_fetch",
                "git_commit",
                "directory",
                "file",
                "builder",
                "parent_ref",
                "parent_repository",
                "parent_tag",
                "parent_tag_id",
                "froms",
                "error",
            ],
            link_parents(rows),
        ),
        "hub_images": (
            [
                "id",
                "tag_id",
                "os",
                "architecture",
                "variant",
                "bashbrew_arch",
                "digest",
                "size",
                "last_pushed",
            ],
            rows.hub_images,
        ),
        "tag_history": (["id", "tag_id", "digest", "first_seen", "last_seen"], rows.history),
    }
    counts = {}
    for table, (columns, records) in tables.items():
        await connection.copy_records_to_table(table, columns=columns, records=records)
        if "id" in columns:
            await connection.execute(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), {max(len(records), 1)})"
            )
        counts[table] = len(records)
    return counts


async def link_stanzas(url: str, connection: asyncpg.Connection) -> dict[str, float | int]:
    """``builds.parent_stanza_id`` as the store's ``link_parents`` writes it (the COPY linked
    ``parent_tag_id``), timed, and a second, no-change call; then VACUUM ANALYZE."""
    # statistics first, as a synced database has them (autovacuum analyses growing tables)
    await connection.execute("ANALYZE")
    database = Database(url)
    timings: dict[str, float | int] = {}
    try:
        for name in ("link", "relink"):
            started = time.perf_counter()
            async with database.session() as session:
                timings[f"{name}_rows"] = await link_parent_stanzas(session)
                await session.commit()
            timings[f"{name}_seconds"] = round(time.perf_counter() - started, 1)
    finally:
        await database.dispose()
    # as autovacuum would soon: statistics, and the visibility map for index-only scans
    await connection.execute("VACUUM ANALYZE")
    return timings


# --------------------------------------------------------------------------- timing

#: goals (p99, ms): every CLI query, every README example
CLI_GOAL_MS = 50.0
DOCS_GOAL_MS = 200.0
#: goal (p99, ms) of every README example on SQLite at corpus scale
SQLITE_DOCS_GOAL_MS = 100.0
#: the base whose children and descendants are timed
BASE_REF = "debian:bookworm-slim"


@dataclass
class Statement:
    """One statement a query sent, as the driver got it, and how long it took."""

    sql: str
    parameters: Any
    ms: float


def _p99(values: Sequence[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(0.99 * (len(ordered) - 1)))]


class GcClock:
    """Time spent in Python's garbage collector (``gc.callbacks``)."""

    def __init__(self) -> None:
        self.total_ms = 0.0
        self._started = 0.0
        gc.callbacks.append(self._callback)

    def _callback(self, phase: str, _info: dict[str, Any]) -> None:
        if phase == "start":
            self._started = time.perf_counter()
        else:
            self.total_ms += (time.perf_counter() - self._started) * 1000

    def take(self) -> float:
        taken, self.total_ms = self.total_ms, 0.0
        return taken


@dataclass
class Figure:
    name: str
    goal_ms: float
    samples: list[float] = field(default_factory=list)
    #: per sample: the time spent in statements (sent to answered) and in garbage collection
    sql: list[float] = field(default_factory=list)
    gc: list[float] = field(default_factory=list)
    #: the statements of the slowest sample
    slowest: list[Statement] = field(default_factory=list)

    @property
    def p50(self) -> float:
        return statistics.median(self.samples)

    @property
    def p99(self) -> float:
        return _p99(self.samples)

    @property
    def over_goal(self) -> bool:
        return self.p99 >= self.goal_ms

    @property
    def p99_sql(self) -> float:
        return _p99(self.sql)

    @property
    def max_gc(self) -> float:
        return max(self.gc)

    def as_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "n": len(self.samples),
            "min_ms": min(self.samples),
            "p50_ms": self.p50,
            "p99_ms": self.p99,
            "max_ms": max(self.samples),
            "p99_sql_ms": self.p99_sql,
            "max_gc_ms": self.max_gc,
            "goal_p99_ms": self.goal_ms,
            "over_goal": self.over_goal,
        }


class StatementLog:
    """Records every statement the engine sends, with its time (SQLAlchemy cursor events)."""

    def __init__(self, database: Database) -> None:
        self.statements: list[Statement] = []
        self._started: list[float] = []
        engine = database.engine.sync_engine
        event.listen(engine, "before_cursor_execute", self._before)
        event.listen(engine, "after_cursor_execute", self._after)

    def _before(self, *_args: Any) -> None:
        self._started.append(time.perf_counter())

    def _after(
        self, _conn: Any, _cursor: Any, statement: str, parameters: Any, *_args: Any
    ) -> None:
        started = self._started.pop()
        self.statements.append(
            Statement(statement, parameters, (time.perf_counter() - started) * 1000)
        )

    def take(self) -> list[Statement]:
        taken, self.statements = self.statements, []
        return taken


GC_CLOCK = GcClock()


async def measure(
    database: Database,
    log: StatementLog,
    figure: Figure,
    action: Callable[[AsyncSession, int], Awaitable[object]],
    iterations: int,
) -> Figure:
    """``iterations`` timings (ms) of ``action``, each in a session of its own (as the CLI
    opens one), after a short warm-up; the pool's connections, and their prepared
    statements, are reused as a long-running process (``indexer serve``) reuses them."""
    for index in range(min(3, iterations)):
        async with database.session() as session:
            await action(session, index)
    log.take()
    GC_CLOCK.take()
    for index in range(iterations):
        start = time.perf_counter()
        async with database.session() as session:
            await action(session, index)
        figure.samples.append((time.perf_counter() - start) * 1000)
        figure.gc.append(GC_CLOCK.take())
        statements = log.take()
        figure.sql.append(sum(statement.ms for statement in statements))
        if figure.samples[-1] >= max(figure.samples):
            figure.slowest = statements
    return figure


async def sample_refs(database: Database, count: int) -> list[str]:
    """``count`` tags of maintained stanzas (corpus and synthetic), in every REF form."""
    async with database.session() as session:
        rows = (
            await session.execute(
                text(
                    "SELECT r.name, t.name FROM tags t "
                    "JOIN image_repositories r ON r.id = t.repository_id "
                    "WHERE t.stanza_id IS NOT NULL AND t.maintained "
                    "ORDER BY md5(t.id::text) LIMIT :count"
                ),
                {"count": count},
            )
        ).all()
    forms = ("{r}:{t}", "library/{r}:{t}", "docker.io/library/{r}:{t}")
    return [forms[index % 3].format(r=r, t=t) for index, (r, t) in enumerate(rows)]


async def cli_queries(database: Database, log: StatementLog, iterations: int) -> list[Figure]:
    """The store functions behind each CLI query command, as the command calls them."""
    refs = await sample_refs(database, iterations + 3)
    cases: list[tuple[str, Callable[[AsyncSession, int], Awaitable[object]]]] = [
        ("show REF", lambda s, i: queries.show_tag(SessionReader(s), refs[i])),
        (f"children {BASE_REF}", lambda s, _i: queries.children(SessionReader(s), BASE_REF)),
        (
            f"children {BASE_REF} --recursive",
            lambda s, _i: queries.children(SessionReader(s), BASE_REF, recursive=True),
        ),
        (
            "children REF --recursive",
            lambda s, i: queries.children(SessionReader(s), refs[i], recursive=True),
        ),
        ("explain REF", lambda s, i: queries.explain_tag(SessionReader(s), refs[i])),
        ("graph REF", lambda s, i: queries.lineage_graph(SessionReader(s), refs[i])),
        (
            "graph REF --descendants",
            lambda s, i: queries.lineage_graph(SessionReader(s), refs[i], descendants=True),
        ),
        ("history REF", lambda s, i: queries.tag_history(SessionReader(s), refs[i])),
        (
            "v_ancestors WHERE repository AND tag",
            lambda s, i: s.execute(
                text("SELECT * FROM v_ancestors WHERE repository = :r AND tag = :t"),
                dict(zip(("r", "t"), refs[i].split("/")[-1].split(":"), strict=True)),
            ),
        ),
    ]
    return [
        await measure(database, log, Figure(name, CLI_GOAL_MS), action, iterations)
        for name, action in cases
    ]


async def docs_queries(
    database: Database, log: StatementLog, iterations: int, goal_ms: float = DOCS_GOAL_MS
) -> list[Figure]:
    """Each SQL example of the README's "SQL views" section, ``iterations`` times."""
    from tests.queries.test_docs_queries import examples

    def run(sql: str) -> Callable[[AsyncSession, int], Awaitable[object]]:
        statement = text(sql)
        return lambda session, _index: session.execute(statement)

    return [
        await measure(database, log, Figure(f"docs: {heading}", goal_ms), run(sql), iterations)
        for heading, sql in examples().items()
    ]


async def explain_slowest(database: Database, figure: Figure) -> str:
    """``EXPLAIN (ANALYZE, BUFFERS)`` of the slowest statement of the figure's slowest sample."""
    if not figure.slowest:
        return f"--- {figure.name}: no statement recorded"
    slowest = max(figure.slowest, key=lambda statement: statement.ms)
    async with database.session() as session:
        connection = await session.connection()
        result = await connection.exec_driver_sql(
            "EXPLAIN (ANALYZE, BUFFERS) " + slowest.sql, slowest.parameters
        )
        plan = "\n".join(row[0] for row in result.all())
    return (
        f"--- {figure.name}: p99 {figure.p99:.1f} ms; slowest statement {slowest.ms:.1f} ms "
        f"of {len(figure.slowest)}\n{slowest.sql.strip()}\n-- parameters: {slowest.parameters}\n"
        f"{plan}"
    )


# --------------------------------------------------------------------------- main


async def _database_exists(admin_url: str, name: str) -> bool:
    admin = await asyncpg.connect(_dsn(admin_url), timeout=10)
    try:
        found = await admin.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", name)
    finally:
        await admin.close()
    return found is not None


async def _admin(admin_url: str, sql: str) -> None:
    admin = await asyncpg.connect(_dsn(admin_url), timeout=10)
    try:
        await admin.execute(sql)
    finally:
        await admin.close()


async def build(args: argparse.Namespace, name: str, url: str) -> dict[str, Any]:
    """Create database ``name``, migrate it, and load the corpus and the synthetic index."""
    random_source = random.Random(SEED)
    await _admin(args.postgres, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    await _admin(args.postgres, f'CREATE DATABASE "{name}"')
    result: dict[str, Any] = {}
    started = time.perf_counter()
    await upgrade(url)
    rows = Rows()
    load_corpus(rows, args.corpus)
    load_synthetic(rows, args.repositories, random_source)
    generated = time.perf_counter()
    connection = await asyncpg.connect(_dsn(args.postgres, name))
    try:
        result["rows"] = await copy_rows(connection, rows)
        result["link_parents"] = await link_stanzas(url, connection)
    finally:
        await connection.close()
    result["generate_seconds"] = round(generated - started, 1)
    result["copy_seconds"] = round(time.perf_counter() - generated, 1)
    return result


async def closure_refresh(database: Database) -> dict[str, Any]:
    """``refresh_build_chains`` with nothing changed, then after one base moved (the builds
    of ``BASE_REF``'s stanza re-pointed at another debian stanza), in a transaction rolled
    back: rows written and seconds."""
    timings: dict[str, Any] = {}
    async with database.sessions() as session, session.begin():
        started = time.perf_counter()
        refresh = await refresh_build_chains(session)
        timings["unchanged"] = (refresh.written, round(time.perf_counter() - started, 2))
        started = time.perf_counter()
        counted = await refresh_parent_refs(session)
        timings["parent_refs_unchanged"] = (
            counted.written,
            round(time.perf_counter() - started, 2),
        )
        moved = await session.execute(
            text(
                "UPDATE builds SET parent_stanza_id = ("
                "  SELECT s.id FROM stanzas s JOIN image_repositories r ON r.id = s.repository_id"
                "  WHERE r.name = 'debian' AND s.canonical_tag = 'trixie-slim')"
                " WHERE stanza_id = ("
                "  SELECT t.stanza_id FROM tags t JOIN image_repositories r ON r.id = t.repository_id"
                "  WHERE r.name = 'debian' AND t.name = 'bookworm-slim')"
            )
        )
        started = time.perf_counter()
        refresh = await refresh_build_chains(session)
        timings["base_moved"] = (
            getattr(moved, "rowcount", 0),
            refresh.written,
            round(time.perf_counter() - started, 2),
        )
        started = time.perf_counter()
        counted = await refresh_parent_refs(session)
        timings["parent_refs_base_moved"] = (
            counted.written,
            round(time.perf_counter() - started, 2),
        )
        await session.rollback()
    return timings


async def sqlite_corpus(args: argparse.Namespace) -> dict[str, Any]:
    """The README examples on SQLite at corpus scale: a sync of the corpus (``SNAPSHOT``)
    through the replay upstream into a fresh database, then each example timed."""
    result: dict[str, Any] = {"database": "SQLite, corpus " + SNAPSHOT}
    started = time.perf_counter()
    with tempfile.TemporaryDirectory() as folder:
        url = f"sqlite+aiosqlite:///{folder}/corpus.db"
        await upgrade(url)
        database = Database(url)
        try:
            async with ReplayServer(Corpus(args.corpus), snapshot=SNAPSHOT) as replay:
                settings = Settings(
                    database_url=url,
                    **replay.upstreams(),
                )
                await run_sync(settings, database)
            result["counts"] = await table_counts(database)
            log = StatementLog(database)
            freeze_startup_objects()
            figures = await docs_queries(
                database, log, args.docs_iterations, goal_ms=SQLITE_DOCS_GOAL_MS
            )
            result["figures"] = [figure.as_json() for figure in figures]
        finally:
            await database.dispose()
    result["total_seconds"] = round(time.perf_counter() - started, 1)
    return result


async def table_counts(database: Database) -> dict[str, int]:
    async with database.session() as session:
        return {
            table: int((await session.execute(text(f"SELECT COUNT(*) FROM {table}"))).scalar_one())
            for table in ("image_repositories", "stanzas", "tags", "builds", "hub_images")
        }


async def bench(args: argparse.Namespace) -> dict[str, Any]:
    name = args.database or f"indexer_bench_{os.getpid()}"
    url = _async_url(args.postgres, name)
    keep = args.keep or args.database is not None
    result: dict[str, Any] = {"database": name}
    started = time.perf_counter()
    try:
        if args.database and not args.rebuild and await _database_exists(args.postgres, name):
            # an index built by an earlier run: bring it to the newest schema (the migrations
            # fill what they add) and analyse, as autovacuum would have
            await upgrade(url)
            connection = await asyncpg.connect(_dsn(args.postgres, name))
            try:
                await connection.execute("VACUUM ANALYZE")
            finally:
                await connection.close()
            result["reused"] = True
        else:
            result.update(await build(args, name, url))
        database = Database(url)
        log = StatementLog(database)
        # as `indexer` does at start-up (the data generated above is gone by now)
        freeze_startup_objects()
        try:
            result["counts"] = await table_counts(database)
            result["closure"] = await closure_refresh(database)
            figures = await cli_queries(database, log, args.iterations)
            figures += await docs_queries(database, log, args.docs_iterations)
            result["figures"] = [figure.as_json() for figure in figures]
            async with database.session() as session:
                result["descendants_of_base"] = len(
                    await queries.children(SessionReader(session), BASE_REF, recursive=True)
                )
            if args.explain:
                result["explain"] = [
                    await explain_slowest(database, figure)
                    for figure in figures
                    if figure.over_goal
                ]
        finally:
            await database.dispose()
        result["total_seconds"] = round(time.perf_counter() - started, 1)
        return result
    finally:
        if not keep:
            await _admin(args.postgres, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _print(result: dict[str, Any]) -> None:
    print(f"database {result['database']}: {result['counts']}")
    if "descendants_of_base" not in result:  # SQLite at corpus scale: the examples only
        _print_figures(result["figures"])
        print(f"total {result['total_seconds']} s")
        return
    if result.get("reused"):
        print("reused (migrated to head and analysed)")
    else:
        print(
            f"generated in {result['generate_seconds']} s (migrations included), "
            f"copied, linked and analysed in {result['copy_seconds']} s"
        )
        link = result["link_parents"]
        print(
            f"link_parents: {link['link_rows']} rows in {link['link_seconds']} s, "
            f"again (no change): {link['relink_rows']} rows in {link['relink_seconds']} s"
        )
    print(f"descendants of {BASE_REF}: {result['descendants_of_base']} images")
    unchanged, moved = result["closure"]["unchanged"], result["closure"]["base_moved"]
    print(
        f"build_chains refresh: nothing changed: {unchanged[0]} rows in {unchanged[1]} s; "
        f"{BASE_REF} moved ({moved[0]} builds): {moved[1]} rows in {moved[2]} s"
    )
    counted, counted_moved = (
        result["closure"]["parent_refs_unchanged"],
        result["closure"]["parent_refs_base_moved"],
    )
    print(
        f"parent_refs refresh: nothing changed: {counted[0]} rows in {counted[1]} s; "
        f"{BASE_REF} moved: {counted_moved[0]} rows in {counted_moved[1]} s"
    )
    _print_figures(result["figures"])
    print(f"total {result['total_seconds']} s")
    for plan in result.get("explain", []):
        print(plan)


def _print_figures(figures: list[dict[str, Any]]) -> None:
    print(f"load: {os.getloadavg()[0]:.2f} {os.getloadavg()[1]:.2f} {os.getloadavg()[2]:.2f}")
    print("sql: p99 of the time in statements per sample; gc: the longest collection time")
    print(
        f"{'query':<60} {'n':>4} {'min ms':>8} {'p50 ms':>8} {'p99 ms':>8} {'max ms':>8} "
        f"{'sql p99':>8} {'gc max':>7} {'goal':>5}"
    )
    for figure in figures:
        flag = " OVER" if figure["over_goal"] else ""
        print(
            f"{figure['name'][:60]:<60} {figure['n']:>4} {figure['min_ms']:>8.2f} "
            f"{figure['p50_ms']:>8.2f} {figure['p99_ms']:>8.2f} {figure['max_ms']:>8.2f} "
            f"{figure['p99_sql_ms']:>8.2f} {figure['max_gc_ms']:>7.2f} "
            f"{figure['goal_p99_ms']:>5.0f}{flag}"
        )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument(
        "--postgres",
        default=os.environ.get("INDEXER_TEST_POSTGRES_URL", DEFAULT_ADMIN_URL),
        help="a PostgreSQL URL; the benchmark database is created next to it",
    )
    parser.add_argument(
        "--database",
        help="build the index into this database and keep it; a later run reuses it",
    )
    parser.add_argument(
        "--rebuild", action="store_true", help="with --database: build it again even if it exists"
    )
    parser.add_argument("--corpus", type=Path, default=default_corpus())
    parser.add_argument(
        "--repositories", type=int, default=2500, help="synthetic repositories (at least)"
    )
    parser.add_argument("--iterations", type=int, default=200, help="timings per CLI query")
    parser.add_argument(
        "--docs-iterations", type=int, default=20, help="timings per README example"
    )
    parser.add_argument(
        "--explain", action="store_true", help="print the plan of every query over its goal"
    )
    parser.add_argument("--keep", action="store_true", help="keep the database afterwards")
    parser.add_argument("--json", action="store_true", help="print JSON")
    parser.add_argument(
        "--sqlite",
        action="store_true",
        help="instead: the README examples on SQLite at corpus scale (a replayed corpus sync)",
    )
    args = parser.parse_args(argv)
    result = asyncio.run(sqlite_corpus(args) if args.sqlite else bench(args))
    if args.json:
        print(json.dumps(result, indent=2))
    else:
        _print(result)
    return 0


if __name__ == "__main__":
    sys.exit(main())
