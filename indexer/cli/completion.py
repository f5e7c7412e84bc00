"""``indexer completion SHELL``: the shell completion script for bash, zsh or fish."""

from __future__ import annotations

import click
from click.shell_completion import get_completion_class

__all__ = ["SHELLS", "completion_command"]

SHELLS = ("bash", "zsh", "fish")
#: the variable click's completion protocol reads (``_<PROG>_COMPLETE``)
COMPLETE_VAR = "_INDEXER_COMPLETE"


@click.command("completion")
@click.argument("shell", type=click.Choice(SHELLS))
@click.pass_context
def completion_command(ctx: click.Context, shell: str) -> None:
    """Print the completion script for SHELL (bash, zsh or fish).

    \b
    bash:  eval "$(indexer completion bash)"     (in ~/.bashrc)
    zsh:   eval "$(indexer completion zsh)"      (in ~/.zshrc)
    fish:  indexer completion fish > ~/.config/fish/completions/indexer.fish
    """
    completion = get_completion_class(shell)
    assert completion is not None  # every name in SHELLS is built into click
    root = ctx.find_root().command
    click.echo(completion(root, {}, "indexer", COMPLETE_VAR).source())
