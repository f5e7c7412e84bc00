"""Image references: the normal form of CONTRACT §2."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from indexer.errors import ImageReferenceError
from indexer.refs import ImageRef, normalize_ref, parse_ref, split_ref

DIGEST = "sha256:" + "0123456789abcdef" * 4


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("python", "python:latest"),
        ("python:3.12-slim", "python:3.12-slim"),
        ("library/python:3.12-slim", "python:3.12-slim"),
        ("docker.io/library/python:3.12-slim", "python:3.12-slim"),
        ("index.docker.io/library/python", "python:latest"),
        ("registry-1.docker.io/python", "python:latest"),
        ("Docker.IO/python", "python:latest"),
        ("docker.io/bitnami/redis:7", "bitnami/redis:7"),
        ("bitnami/redis", "bitnami/redis:latest"),
        (f"debian:bookworm@{DIGEST}", f"debian:bookworm@{DIGEST}"),
        (f"debian@{DIGEST}", f"debian@{DIGEST}"),
        (
            "mcr.microsoft.com/windows/servercore:ltsc2022",
            "mcr.microsoft.com/windows/servercore:ltsc2022",
        ),
        ("localhost:5000/foo", "localhost:5000/foo:latest"),
        ("localhost/foo:1", "localhost/foo:1"),
        ("scratch", "scratch"),
        ("  alpine:3.20  ", "alpine:3.20"),
        ("a__b/c--d.e:tag_1.2-x", "a__b/c--d.e:tag_1.2-x"),
    ],
)
def test_normal_form(text: str, expected: str) -> None:
    assert normalize_ref(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "",
        "   ",
        "python:",
        ":tag",
        "Python",
        "python:3 12",
        "python:-x",
        "python:" + "x" * 129,
        "python@sha256:short",
        "@" + DIGEST,
        "a//b",
        "a/-b",
        "python:3.12é",  # Docker's tag grammar is ASCII
        "python:ü",
        "pythön",
    ],
)
def test_rejected(text: str) -> None:
    with pytest.raises(ImageReferenceError):
        parse_ref(text)


def test_parse_ref_parts() -> None:
    assert parse_ref("docker.io/library/python:3") == ImageRef("python", "3")
    assert parse_ref("python", default_tag=None) == ImageRef("python", None)
    ref = parse_ref(f"quay.io/org/app:1@{DIGEST}")
    assert (ref.repository, ref.tag, ref.digest) == ("quay.io/org/app", "1", DIGEST)
    assert not ref.is_official
    assert parse_ref("python").is_official
    assert parse_ref("scratch").is_scratch
    assert not parse_ref("scratch").is_official


def test_split_ref() -> None:
    assert split_ref("python:3.12-slim") == ("python", "3.12-slim")
    assert split_ref("library/python") == ("python", None)
    assert split_ref("scratch") == ("scratch", None)
    assert split_ref("mcr.microsoft.com/windows/nanoserver:ltsc2022") == (
        "mcr.microsoft.com/windows/nanoserver",
        "ltsc2022",
    )


# a first path component with a dot would read as a registry host (as in Docker)
first_component = st.from_regex(r"[a-z0-9]{1,5}(?:[_-][a-z0-9]{1,5}){0,2}", fullmatch=True)
component = st.from_regex(r"[a-z0-9]{1,5}(?:[._-][a-z0-9]{1,5}){0,2}", fullmatch=True)
tag = st.from_regex(r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,10}", fullmatch=True)
references = st.builds(
    lambda domain, first, path, tag, digest: (
        (domain + "/" if domain else "")
        + "/".join([first, *path])
        + (f":{tag}" if tag else "")
        + (f"@{DIGEST}" if digest else "")
    ),
    st.sampled_from(["", "docker.io", "quay.io", "localhost:5000", "mcr.microsoft.com"]),
    first_component,
    st.lists(component, max_size=2),
    st.one_of(st.none(), tag),
    st.booleans(),
)


@settings(max_examples=300, deadline=None)
@given(text=references)
def test_normal_form_is_idempotent(text: str) -> None:
    normal = normalize_ref(text)
    assert normalize_ref(normal) == normal
    assert not normal.startswith("docker.io/")


@settings(max_examples=300, deadline=None)
@given(text=st.text())
def test_arbitrary_text_raises_only_reference_errors(text: str) -> None:
    try:
        normal = normalize_ref(text)
    except ImageReferenceError:
        return
    assert normalize_ref(normal) == normal
