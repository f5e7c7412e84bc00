"""The per-image views (``v_image_parents``, ``v_image_ancestors``) and ``v_parent_refs``
(over ``parent_refs``), on both backends.

- on the corpus, each answers what the per-tag views answer, collapsed to one row per
  image; every README example reading them answers what the question answered when
  it was asked of ``v_parents``/``v_ancestors``; the migration's fill of
  ``parent_refs`` equals what the sync kept;
- a refresh with nothing changed writes nothing; a moved parent rewrites only the
  rows of the references it left and joined.
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from alembic import command

from indexer.replay import Corpus, ReplayServer
from indexer.store.migrate import alembic_config, upgrade
from indexer.store.parent_refs import refresh_parent_refs
from tests.queries.test_docs_queries import examples
from tests.store.handmade import load_handmade_graph
from tests.sync.helpers import query, refresh_after, relink, replay_settings, sync_once

#: the revision that added parent_refs and the per-image views, and the one before it
REVISION, BEFORE = "0014", "0009"

PARENT_REFS_SQL = (
    "SELECT parent_ref, parent_repository, parent_tag, repositories, images FROM parent_refs"
)

#: a per-tag view's rows of each image's canonical tag (the tag's own stanza), with that
#: tag as the image's name
_CANONICAL_ROWS = """
    SELECT DISTINCT {columns} FROM {view} p
    JOIN v_tags t ON t.repository = p.repository AND t.tag = p.tag
    WHERE p.tag = t.canonical_tag
"""

#: the README's whole-index questions as they were first asked, of the per-tag views
ASKED_OF_TAG_VIEWS = {
    "Bases that have left the library, and how many images still use them": """
        SELECT a.ancestor_repository, a.ancestor_tag,
               COUNT(DISTINCT a.repository || ':' || t.canonical_tag) AS images
        FROM v_ancestors a
        JOIN v_tags base ON base.repository = a.ancestor_repository
                        AND base.tag = a.ancestor_tag
        JOIN v_tags t ON t.repository = a.repository AND t.tag = a.tag
        WHERE NOT base.maintained
        GROUP BY a.ancestor_repository, a.ancestor_tag
        ORDER BY images DESC, a.ancestor_repository, a.ancestor_tag""",
    "Images without a resolved parent": """
        SELECT p.repository, p.tag, p.architecture
        FROM v_parents p
        JOIN v_tags t ON t.repository = p.repository AND t.tag = p.tag
        WHERE p.parent_ref IS NULL AND p.tag = t.canonical_tag
        ORDER BY p.repository, p.tag, p.architecture""",
    "Official parents the index does not know": """
        SELECT DISTINCT p.parent_ref
        FROM v_parents p
        WHERE p.parent_repository IS NOT NULL
          AND p.parent_repository <> 'scratch'
          AND p.parent_repository NOT LIKE '%/%'
          AND NOT EXISTS (SELECT 1 FROM v_tags t
                          WHERE t.repository = p.parent_repository AND t.tag = p.parent_tag)
        ORDER BY p.parent_ref""",
    "The most used direct parents": """
        SELECT parent_ref, COUNT(DISTINCT repository) AS repositories
        FROM v_parents
        WHERE parent_ref IS NOT NULL
        GROUP BY parent_ref
        ORDER BY repositories DESC, parent_ref
        LIMIT 10""",
}

#: the images on a base as the README first asked (a walk down ``v_parents`` from every
#: alias of the base)
_ON_BASE = """
    WITH RECURSIVE base (repository, tag) AS (
        SELECT repository, tag FROM v_tags
        WHERE repository = 'debian' AND canonical_tag = '{canonical}'
    ),
    descendants (repository, tag, architecture, depth) AS (
        SELECT p.repository, p.tag, p.architecture, 1
        FROM v_parents p
        JOIN base b ON p.parent_repository = b.repository AND p.parent_tag = b.tag
        UNION
        SELECT p.repository, p.tag, p.architecture, d.depth + 1
        FROM v_parents p
        JOIN descendants d
          ON p.parent_repository = d.repository AND p.parent_tag = d.tag
         AND p.architecture = d.architecture
        WHERE d.depth < 32
    )
    SELECT d.repository, t.canonical_tag{architecture}, MIN(d.depth) AS depth
    FROM descendants d
    JOIN v_tags t ON t.repository = d.repository AND t.tag = d.tag
    GROUP BY d.repository, t.canonical_tag{architecture}
"""
ON_BASE = {
    "Everything built on a base, directly or transitively": _ON_BASE.format(
        architecture="", canonical="bookworm-slim"
    ),
    "Everything still on an end-of-life base": _ON_BASE.format(
        architecture=", d.architecture", canonical="buster"
    ),
}


def _text_rows(rows: list[tuple[Any, ...]]) -> list[tuple[str | None, ...]]:
    return [tuple(None if value is None else str(value) for value in row) for row in rows]


async def _sorted(database_url: str, sql: str) -> list[tuple[str | None, ...]]:
    return sorted(_text_rows(await query(database_url, sql)))


@pytest.mark.corpus
@pytest.mark.slow
@pytest.mark.asyncio
async def test_per_image_views_and_examples_answer_as_the_per_tag_views_on_the_corpus(
    database_url: str, corpus: Corpus, replay: ReplayServer
) -> None:
    await sync_once(replay_settings(replay, database_url))
    parent_columns = "p.repository, p.tag, p.architecture, p.parent_ref, p.parent_repository, "
    image_parents = await _sorted(database_url, "SELECT * FROM v_image_parents")
    assert len(image_parents) > 5_000
    assert image_parents == await _sorted(
        database_url,
        _CANONICAL_ROWS.format(columns=parent_columns + "p.parent_tag", view="v_parents"),
    )
    ancestor_columns = (
        "p.repository, p.tag, p.architecture, p.depth, p.ancestor_repository, p.ancestor_tag"
    )
    image_ancestors = await _sorted(database_url, "SELECT * FROM v_image_ancestors")
    assert len(image_ancestors) > 10_000
    assert image_ancestors == await _sorted(
        database_url, _CANONICAL_ROWS.format(columns=ancestor_columns, view="v_ancestors")
    )
    # the maintained references and their repositories, as v_parents counts them
    assert await _sorted(
        database_url, "SELECT parent_ref, repositories FROM v_parent_refs WHERE repositories > 0"
    ) == await _sorted(
        database_url,
        "SELECT parent_ref, COUNT(DISTINCT repository) FROM v_parents "
        "WHERE parent_ref IS NOT NULL GROUP BY parent_ref",
    )

    readme = examples()
    for heading, asked in ASKED_OF_TAG_VIEWS.items():
        assert _text_rows(await query(database_url, readme[heading])) == _text_rows(
            await query(database_url, asked)
        ), heading
    for heading, asked in ON_BASE.items():
        answer = await _sorted(database_url, readme[heading])
        assert answer == await _sorted(database_url, asked), heading
    assert (
        len(
            await query(
                database_url, readme["Everything built on a base, directly or transitively"]
            )
        )
        > 100
    )

    # the migration's fill counts what the sync kept
    kept = await _sorted(database_url, PARENT_REFS_SQL)
    assert len(kept) > 100
    await asyncio.to_thread(command.downgrade, alembic_config(database_url), BEFORE)
    await upgrade(database_url)
    assert await _sorted(database_url, PARENT_REFS_SQL) == kept


# --------------------------------------------------------------------------- refresh itself


async def _refresh(database_url: str, *statements: str) -> tuple[int, int]:
    return await refresh_after(database_url, refresh_parent_refs, *statements)


def _parent_refs(database_url: str) -> dict[str, tuple[Any, ...]]:
    rows = asyncio.run(query(database_url, PARENT_REFS_SQL))
    return {row[0]: tuple(row[1:]) for row in rows}


def test_parent_refs_refresh_writes_only_what_moved(database_url: str) -> None:
    load_handmade_graph(database_url)
    full = _parent_refs(database_url)
    assert full["debian:bookworm"] == ("debian", "bookworm", 1, 1)
    assert full["scratch"][:2] == ("scratch", None)
    assert asyncio.run(relink(database_url)) == 0
    assert asyncio.run(_refresh(database_url)) == (0, 0)
    assert _parent_refs(database_url) == full

    # python's builds move from buildpack-deps:bookworm to a reference no build named:
    # the old reference's row goes (nothing names it now), the new one comes
    moved = (
        "UPDATE builds SET parent_ref = 'debian:trixie', parent_repository = 'debian', "
        "parent_tag = 'trixie' WHERE parent_ref = 'buildpack-deps:bookworm'"
    )
    assert asyncio.run(_refresh(database_url, moved)) == (1, 1)
    after = _parent_refs(database_url)
    assert "buildpack-deps:bookworm" not in after
    assert after.pop("debian:trixie")[:2] == ("debian", "trixie")
    assert after == {ref: row for ref, row in full.items() if ref != "buildpack-deps:bookworm"}

    # a stanza no longer maintained leaves its references with a count of 0
    assert asyncio.run(
        _refresh(
            database_url,
            "UPDATE stanzas SET maintained = FALSE WHERE id IN "
            "(SELECT stanza_id FROM builds WHERE parent_ref = 'debian:trixie')",
        )
    ) == (1, 1)
    assert _parent_refs(database_url)["debian:trixie"][2:] == (0, 0)

    # from nothing, every row
    asyncio.run(_refresh(database_url, "DELETE FROM parent_refs"))
    assert len(_parent_refs(database_url)) == len(full)
