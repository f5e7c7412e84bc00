"""The Jinja environment of the web view: autoescaping on, filters for links and sizes.

Everything from upstream (library files, Dockerfiles, Hub answers) reaches the page
through autoescaped expressions only; no template marks a value ``safe``.
"""

from __future__ import annotations

from urllib.parse import quote

import jinja2

from indexer.cli.query_output import human_size
from indexer.cli.render import plural
from indexer.errors import ImageReferenceError
from indexer.refs import parse_ref

__all__ = ["image_url", "is_official", "make_environment", "repository_url"]


def image_url(ref: str) -> str:
    """The tag page of an image reference (``/t/python:3.12-slim``)."""
    return "/t/" + quote(ref, safe=":/@")


def is_official(ref: str) -> bool:
    """An official image's reference (the view has a page for it), not scratch or another
    registry's image (``mcr.microsoft.com/windows/servercore:ltsc2022``)."""
    try:
        return parse_ref(ref).is_official
    except ImageReferenceError:
        return False


def repository_url(name: str) -> str:
    return "/r/" + quote(name, safe="")


def make_environment() -> jinja2.Environment:
    environment = jinja2.Environment(
        loader=jinja2.PackageLoader("indexer.web", "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    environment.tests["official"] = is_official
    environment.filters["image_url"] = image_url
    environment.filters["repository_url"] = repository_url
    environment.filters["size"] = human_size
    environment.filters["plural"] = plural
    environment.filters["short_digest"] = lambda d: d[:19] if d else "-"
    return environment
