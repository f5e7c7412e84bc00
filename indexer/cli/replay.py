"""``indexer replay CORPUS_DIR``: serve a corpus folder as Docker Hub and GitHub would."""

from __future__ import annotations

import asyncio
import contextlib
import signal
from pathlib import Path

import click

from indexer.errors import IndexerError
from indexer.replay import Corpus, CorpusError, ReplayServer
from indexer.replay.registry_images import RegistryAccess, RegistryOptions

__all__ = ["replay_command"]


async def _serve(server: ReplayServer) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
            loop.add_signal_handler(signum, stop.set)
    async with server:
        for name, value in server.env().items():
            click.echo(f"export {name}={value}")
        click.echo(
            f"# replaying snapshot {server.snapshot.name} ({server.snapshot.commit}) "
            f"on {server.url}; Ctrl-C to stop",
            err=True,
        )
        await stop.wait()


@click.command("replay")
@click.argument("corpus_dir", type=click.Path(path_type=Path))
@click.option(
    "--snapshot", default="dense-current", show_default=True, help="Library snapshot to serve."
)
@click.option(
    "--port", type=click.IntRange(0, 65535), default=0, show_default=True, help="0: any free port."
)
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--latency-ms", type=click.FloatRange(min=0), default=0.0, help="Delay per request.")
@click.option(
    "--fail-rate", type=click.FloatRange(0, 1), default=0.0, help="Fraction answered 5xx."
)
@click.option(
    "--truncate-rate",
    type=click.FloatRange(0, 1),
    default=0.0,
    help="Fraction of bodies cut short.",
)
@click.option(
    "--rate-limit",
    type=click.FloatRange(min=0, min_open=True),
    default=None,
    help="Requests/s (429 above).",
)
@click.option(
    "--rate-burst",
    type=click.FloatRange(min=1),
    default=None,
    help="Largest burst of the rate limit (default: one second's worth).",
)
@click.option("--seed", type=int, default=0, show_default=True, help="Seed of the fault draws.")
@click.option(
    "--stale-share",
    type=click.FloatRange(0, 1),
    default=0.0,
    help="Fraction of images published on an older build of their base.",
)
@click.option(
    "--pending-share",
    type=click.FloatRange(0, 1),
    default=0.0,
    help="Fraction of images whose published revision is not the library's commit.",
)
@click.option(
    "--bare-share",
    type=click.FloatRange(0, 1),
    default=0.0,
    help="Fraction of images published without annotations (layer check needed).",
)
@click.option("--require-token", is_flag=True, help="Registry answers 401 without a token.")
@click.option(
    "--pull-limit",
    type=click.IntRange(min=0),
    default=None,
    help="Manifest GETs allowed (429 TOOMANYREQUESTS after).",
)
@click.option(
    "--synthetic-tags",
    type=click.IntRange(min=0),
    default=0,
    show_default=True,
    help="Deterministic synthetic Hub tags added to every repository (Docker Hub scale).",
)
def replay_command(
    *,
    corpus_dir: Path,
    snapshot: str,
    port: int,
    host: str,
    latency_ms: float,
    fail_rate: float,
    truncate_rate: float,
    rate_limit: float | None,
    rate_burst: float | None,
    seed: int,
    stale_share: float,
    pending_share: float,
    bare_share: float,
    require_token: bool,
    pull_limit: int | None,
    synthetic_tags: int,
) -> None:
    """Serve CORPUS_DIR as Docker Hub, its registry and GitHub would, for offline runs and tests.

    Prints the INDEXER_* variables that point a sync at the server, then serves until
    interrupted.
    """
    try:
        corpus = Corpus(corpus_dir)
        server = ReplayServer(
            corpus,
            snapshot=snapshot,
            host=host,
            port=port,
            latency_ms=latency_ms,
            fail_rate=fail_rate,
            truncate_rate=truncate_rate,
            rate_limit=rate_limit,
            rate_burst=rate_burst,
            seed=seed,
            registry=RegistryOptions(
                stale_share=stale_share, pending_share=pending_share, bare_share=bare_share
            ),
            registry_access=RegistryAccess(require_token=require_token, pull_limit=pull_limit),
            synthetic_tags=synthetic_tags,
        )
    except CorpusError as error:
        raise click.ClickException(str(error)) from None
    try:
        with contextlib.suppress(KeyboardInterrupt):
            asyncio.run(_serve(server))
    except OSError as error:
        reason = error.strerror or str(error)
        raise IndexerError(f"cannot serve on {host}:{port}: {reason}") from None
