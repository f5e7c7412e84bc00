"""The variants table's bars and order (pure)."""

from __future__ import annotations

from typing import Any

from indexer.web.variants import BAR_WIDTH, variant_table


def sibling(tag: str, sizes: dict[str, int | None]) -> dict[str, Any]:
    return {"tag": tag, "sizes": sizes, "selected": False}


EXPLAIN = {
    "version": "3",
    "siblings": [
        sibling("3", {"amd64": 1000, "arm64v8": 900, "s390x": 950}),
        sibling("3-slim", {"amd64": 200, "arm64v8": 250}),
        sibling("3-alpine", {"amd64": 100, "arm64v8": 300, "arm32v6": 90}),
        sibling("3-windowsservercore", {}),
    ],
}


def test_all_architectures_in_bashbrew_order_scaled_to_the_largest() -> None:
    table = variant_table(EXPLAIN, None)
    assert table.architecture is None
    assert table.architectures == ["amd64", "arm32v6", "arm64v8", "s390x"]
    assert [row.sibling["tag"] for row in table.rows] == [
        "3",
        "3-slim",
        "3-alpine",
        "3-windowsservercore",
    ]
    first = table.rows[0].bars
    assert [bar.architecture for bar in first] == ["amd64", "arm64v8", "s390x"]
    assert first[0].width == BAR_WIDTH
    assert table.rows[1].bars[0].width == BAR_WIDTH * 200 / 1000
    assert not any(row.smallest for row in table.rows)
    assert table.rows[3].bars == []


def test_one_architecture_sorts_smallest_first() -> None:
    table = variant_table(EXPLAIN, "arm64v8")
    assert table.architecture == "arm64v8"
    assert [row.sibling["tag"] for row in table.rows] == [
        "3-slim",
        "3-alpine",
        "3",
        "3-windowsservercore",
    ]
    assert [row.smallest for row in table.rows] == [True, False, False, False]
    assert [bar.architecture for row in table.rows for bar in row.bars] == ["arm64v8"] * 3
    assert table.rows[2].bars[0].width == BAR_WIDTH


def test_an_unknown_architecture_shows_them_all() -> None:
    assert variant_table(EXPLAIN, "m68k").architecture is None
    assert variant_table({"version": "1", "siblings": []}, "amd64").rows == []
