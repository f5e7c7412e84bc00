"""Benchmark: lineage queries on an index of at least a million tags (PostgreSQL).

Usage::

    .venv/bin/python bench/query.py [--postgres URL] [--corpus DIR] [--repositories 2500]
                                    [--iterations 200] [--explain] [--keep] [--json]

Builds a fresh database next to the one ``--postgres`` names (default
``$INDEXER_TEST_POSTGRES_URL`` or the local ``test`` database), migrates it, and
bulk-loads (asyncpg ``COPY``):

- the corpus: every ``dense-current`` library file (``parse_library_file``), the
  parents the corpus oracle records for each build, and every Hub tag of
  ``hub/*.json.gz`` with its platform images;
- synthetic repositories built on real bases (a few percent on
  ``debian:bookworm-slim`` or its alias ``debian:12-slim``, directly or through
  other synthetic images, so its descendants number in the thousands), with
  Hub-only historical tags, until there are at least a million tags;

then fills ``builds.parent_stanza_id`` with the store's ``link_parents`` (timed, and
timed again as a no-change call).

It then prints p50 and p99 latency of ``show`` by alias, direct children and
recursive descendants of ``debian:bookworm-slim`` (the store functions the CLI
calls, one session each), and ``v_ancestors`` for one tag (goals: show p50 under
5 ms, recursive descendants p50 under 50 ms), plus single timings of the SQL
examples in the README's "SQL views" section. ``--explain`` prints ``EXPLAIN (ANALYZE, BUFFERS)`` of
the recursive statements. The database is dropped at the end unless ``--keep``.
"""

from __future__ import annotations

import argparse
import asyncio
import gzip
import json
import os
import random
import statistics
import sys
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
from sqlalchemy import bindparam, text  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402
from sqlalchemy.ext.asyncio import AsyncSession  # noqa: E402

from indexer.errors import ImageReferenceError  # noqa: E402
from indexer.parsing import parse_library_file  # noqa: E402
from indexer.platforms import bashbrew_arch, hub_platform  # noqa: E402
from indexer.refs import normalize_ref, split_ref  # noqa: E402
from indexer.store.db import Database  # noqa: E402
from indexer.store.links import link_parents as link_parent_stanzas  # noqa: E402
from indexer.store.migrate import upgrade  # noqa: E402
from indexer.store.queries import children, show_tag  # noqa: E402
from indexer.store.queries.chains import _LEVELS_SQL  # noqa: E402
from indexer.store.queries.descendants import walk_sql  # noqa: E402

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


@dataclass
class Figure:
    name: str
    samples: list[float]

    @property
    def p50(self) -> float:
        return statistics.median(self.samples)

    @property
    def p99(self) -> float:
        ordered = sorted(self.samples)
        return ordered[min(len(ordered) - 1, round(0.99 * (len(ordered) - 1)))]

    def as_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "n": len(self.samples),
            "min_ms": min(self.samples),
            "p50_ms": self.p50,
            "p99_ms": self.p99,
        }


async def measure(
    database: Database,
    name: str,
    action: Callable[[AsyncSession, int], Awaitable[object]],
    iterations: int,
) -> Figure:
    """``iterations`` timings (ms) of ``action`` in a session of its own, after a warm-up."""
    for index in range(min(5, iterations)):
        async with database.session() as session:
            await action(session, index)
    samples = []
    for index in range(iterations):
        start = time.perf_counter()
        async with database.session() as session:
            await action(session, index)
        samples.append((time.perf_counter() - start) * 1000)
    return Figure(name, samples)


def _refs(rows: Rows, random_source: random.Random, count: int) -> list[str]:
    """Alias references in every REF form, for synthetic and corpus tags."""
    names = {rid: name for name, rid in rows.repositories.items()}
    tagged = [(names[rid], tag) for (rid, tag), row in rows.tags.items() if row[3] is not None]
    picked = random_source.sample(tagged, count)
    forms = ("{r}:{t}", "library/{r}:{t}", "docker.io/library/{r}:{t}")
    return [forms[index % 3].format(r=r, t=t) for index, (r, t) in enumerate(picked)]


async def run_queries(
    database: Database, rows: Rows, iterations: int, random_source: random.Random
) -> list[Figure]:
    refs = _refs(rows, random_source, iterations + 5)
    deep = [ref.split("/")[-1].split(":") for ref in refs]
    return [
        await measure(database, "show by alias", lambda s, i: show_tag(s, refs[i]), iterations),
        await measure(
            database,
            "children debian:bookworm-slim (direct)",
            lambda s, _i: children(s, "debian:bookworm-slim"),
            iterations,
        ),
        await measure(
            database,
            "children debian:bookworm-slim --recursive",
            lambda s, _i: children(s, "debian:bookworm-slim", recursive=True),
            iterations,
        ),
        await measure(
            database,
            "v_ancestors for one tag",
            lambda s, i: s.execute(
                text("SELECT * FROM v_ancestors WHERE repository = :r AND tag = :t"),
                {"r": deep[i][0], "t": deep[i][1]},
            ),
            iterations,
        ),
    ]


async def docs_queries(database: Database) -> list[Figure]:
    """One timing of each SQL example in the README's "SQL views" section."""
    from tests.queries.test_docs_queries import examples

    figures = []
    for heading, sql in examples().items():
        async with database.session() as session:
            await session.execute(text("SET LOCAL statement_timeout = '120s'"))
            start = time.perf_counter()
            await session.execute(text(sql))
            figures.append(Figure(f"docs: {heading}", [(time.perf_counter() - start) * 1000]))
    return figures


async def explain(database: Database, rows: Rows) -> str:
    """EXPLAIN (ANALYZE, BUFFERS) of the statements behind the timings."""
    async with database.session() as session:
        root = (
            await session.execute(
                text(
                    "SELECT t.stanza_id FROM tags t JOIN image_repositories r ON r.id = t.repository_id "
                    "WHERE r.name = 'debian' AND t.name = 'bookworm-slim'"
                )
            )
        ).scalar_one()
        seeds = list(
            (
                await session.execute(
                    text(
                        "SELECT b.id FROM builds b JOIN tags t ON t.stanza_id = b.stanza_id "
                        "JOIN image_repositories r ON r.id = t.repository_id "
                        "WHERE r.name = 'synth00007' AND t.name = '1.0.0-v1'"
                    )
                )
            ).scalars()
        )
        statements = {
            "descendants (recursive)": (
                walk_sql("postgresql")
                + "SELECT stanza_id, architecture, depth FROM down WHERE depth > 0",
                {"roots": [root], "max_depth": 32},
                "roots",
            ),
            "ancestor chains": (
                _LEVELS_SQL.format(position="strpos"),
                {"seed_ids": seeds, "max_depth": 32},
                "seed_ids",
            ),
            "v_ancestors for one tag": (
                "SELECT * FROM v_ancestors WHERE repository = 'synth00007' AND tag = '1.0.0-v1'",
                {},
                None,
            ),
        }
        report = []
        for name, (sql, params, expanding) in statements.items():
            statement = text("EXPLAIN (ANALYZE, BUFFERS) " + sql)
            if expanding:
                statement = statement.bindparams(bindparam(expanding, expanding=True))
            plan = (await session.execute(statement, params)).scalars().all()
            report.append(f"--- {name}\n" + "\n".join(plan))
        return "\n".join(report)


# --------------------------------------------------------------------------- main


async def bench(args: argparse.Namespace) -> dict[str, Any]:
    random_source = random.Random(SEED)
    name = f"indexer_bench_{os.getpid()}"
    admin = await asyncpg.connect(_dsn(args.postgres), timeout=10)
    try:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}"')
        await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()
    url = _async_url(args.postgres, name)
    result: dict[str, Any] = {"database": name}
    try:
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
        loaded = time.perf_counter()
        result["generate_seconds"] = round(generated - started, 1)
        result["copy_seconds"] = round(loaded - generated, 1)
        database = Database(url)
        try:
            figures = await run_queries(database, rows, args.iterations, random_source)
            figures += await docs_queries(database)
            result["figures"] = [figure.as_json() for figure in figures]
            async with database.session() as session:
                result["descendants_of_bookworm_slim"] = len(
                    await children(session, "debian:bookworm-slim", recursive=True)
                )
            if args.explain:
                result["explain"] = await explain(database, rows)
        finally:
            await database.dispose()
        result["total_seconds"] = round(time.perf_counter() - started, 1)
        return result
    finally:
        if not args.keep:
            admin = await asyncpg.connect(_dsn(args.postgres), timeout=10)
            try:
                await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            finally:
                await admin.close()


def _print(result: dict[str, Any]) -> None:
    print(f"database {result['database']}: {result['rows']}")
    print(
        f"generated in {result['generate_seconds']} s (migrations included), "
        f"copied, linked and analysed in {result['copy_seconds']} s, "
        f"total {result['total_seconds']} s"
    )
    link = result["link_parents"]
    print(
        f"link_parents (parent_stanza_id): {link['link_rows']} rows in {link['link_seconds']} s, "
        f"again (no change): {link['relink_rows']} rows in {link['relink_seconds']} s"
    )
    print(f"descendants of debian:bookworm-slim: {result['descendants_of_bookworm_slim']} images")
    print(f"{'query':<72} {'n':>5} {'min ms':>9} {'p50 ms':>9} {'p99 ms':>9}")
    for figure in result["figures"]:
        print(
            f"{figure['name'][:72]:<72} {figure['n']:>5} {figure['min_ms']:>9.2f} "
            f"{figure['p50_ms']:>9.2f} {figure['p99_ms']:>9.2f}"
        )
    if "explain" in result:
        print(result["explain"])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument(
        "--postgres",
        default=os.environ.get("INDEXER_TEST_POSTGRES_URL", DEFAULT_ADMIN_URL),
        help="a PostgreSQL URL; the benchmark database is created next to it",
    )
    parser.add_argument("--corpus", type=Path, default=default_corpus())
    parser.add_argument(
        "--repositories", type=int, default=2500, help="synthetic repositories (at least)"
    )
    parser.add_argument("--iterations", type=int, default=200)
    parser.add_argument("--explain", action="store_true", help="print the query plans too")
    parser.add_argument("--keep", action="store_true", help="keep the database afterwards")
    parser.add_argument("--json", action="store_true", help="print JSON")
    args = parser.parse_args(argv)
    result = asyncio.run(bench(args))
    if args.json:
        print(json.dumps(result, indent=2))
    else:
        _print(result)
    return 0


if __name__ == "__main__":
    sys.exit(main())
