"""BuildKit's build checks (``frontend/dockerfile/linter``) for what the resolver reads.

A check never stops a build: it records a :class:`BuildWarning` (rule name, line,
message, as BuildKit prints them) and the build goes on. The ``# check=``
parser directive configures them as BuildKit does (``linter.ParseLintOptions``):
``skip=Rule1,Rule2`` or ``skip=all`` silences rules, ``error=true`` turns any
warning left into a build failure (``lint violation found for rules: ...``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from indexer.errors import DockerfileError

__all__ = [
    "CONSISTENT_INSTRUCTION_CASING",
    "DUPLICATE_STAGE_NAME",
    "FROM_AS_CASING",
    "FROM_PLATFORM_FLAG_CONST_DISALLOWED",
    "MAINTAINER_DEPRECATED",
    "NO_EMPTY_CONTINUATION",
    "REDUNDANT_TARGET_PLATFORM",
    "RESERVED_STAGE_NAME",
    "STAGE_NAME_CASING",
    "UNDEFINED_ARG_IN_FROM",
    "BuildWarning",
    "CheckConfig",
    "Linter",
    "parse_check_directive",
]

CONSISTENT_INSTRUCTION_CASING = "ConsistentInstructionCasing"
DUPLICATE_STAGE_NAME = "DuplicateStageName"
FROM_AS_CASING = "FromAsCasing"
FROM_PLATFORM_FLAG_CONST_DISALLOWED = "FromPlatformFlagConstDisallowed"
MAINTAINER_DEPRECATED = "MaintainerDeprecated"
NO_EMPTY_CONTINUATION = "NoEmptyContinuation"
REDUNDANT_TARGET_PLATFORM = "RedundantTargetPlatform"
RESERVED_STAGE_NAME = "ReservedStageName"
STAGE_NAME_CASING = "StageNameCasing"
UNDEFINED_ARG_IN_FROM = "UndefinedArgInFrom"

_TRUE = frozenset({"1", "t", "T", "TRUE", "true", "True"})
_FALSE = frozenset({"0", "f", "F", "FALSE", "false", "False"})


@dataclass(frozen=True, slots=True)
class BuildWarning:
    """One check BuildKit would report for the build, which still builds."""

    rule: str
    line: int
    message: str

    def as_dict(self) -> dict[str, str | int]:
        """The JSON form stored with the build and shown by ``show --json``."""
        return {"rule": self.rule, "line": self.line, "message": self.message}


@dataclass(frozen=True, slots=True)
class CheckConfig:
    """The ``# check=`` directive: which rules are silenced, whether warnings fail."""

    skip: frozenset[str] = frozenset()
    skip_all: bool = False
    error: bool = False


def parse_check_directive(value: str | None) -> CheckConfig:
    """Parse a ``# check=`` value; :class:`ValueError` with BuildKit's message if bad."""
    text = (value or "").strip()
    if not text:
        return CheckConfig()
    skip: frozenset[str] = frozenset()
    skip_all = error = False
    for part in text.split(";", 2):
        key, equals, item = part.partition("=")
        if not equals:
            raise ValueError(f"invalid check option {part!r}")
        key = key.strip()
        if key == "skip":
            item = item.strip()
            if item == "all":
                skip_all = True
            else:
                skip = frozenset(rule.strip() for rule in item.split(","))
        elif key == "error":
            item = item.strip()
            if item not in _TRUE and item not in _FALSE:
                raise ValueError(f"failed to parse check option {part!r}")
            error = item in _TRUE
        elif key != "experimental":  # experimental rules: none of ours is one
            raise ValueError(f"invalid check option {key!r}")
    return CheckConfig(skip, skip_all, error)


class Linter:
    """Collects the warnings of one Dockerfile under its check configuration."""

    __slots__ = ("config", "warnings")

    def __init__(self, config: CheckConfig) -> None:
        self.config = config
        self.warnings: list[BuildWarning] = []

    def run(self, rule: str, line: int, message: str) -> None:
        """Record ``rule`` at ``line`` unless the directive silences it."""
        if self.config.skip_all or rule in self.config.skip:
            return
        self.warnings.append(BuildWarning(rule, line, message))

    def finish(self, source: str) -> tuple[BuildWarning, ...]:
        """The warnings in line order; with ``error=true`` any of them fails the build."""
        if not self.warnings:
            return ()
        warnings = sorted(self.warnings, key=lambda warning: warning.line)
        if warnings and self.config.error:
            rules = ", ".join(sorted({warning.rule for warning in warnings}))
            raise DockerfileError(
                f"lint violation found for rules: {rules}", source=source, line=warnings[0].line
            )
        return tuple(warnings)


def self_consistent(word: str) -> bool:
    """All lower or all upper case (BuildKit's ``isSelfConsistentCasing``)."""
    return word == word.lower() or word == word.upper()


def from_as_casing_differs(from_word: str, as_word: str) -> bool:
    """``FROM x as y`` / ``from x AS y``: the keywords' casing does not match."""
    if from_word == from_word.upper():
        return as_word != as_word.upper()
    if from_word == from_word.lower():
        return as_word != as_word.lower()
    return False  # a mixed-case FROM is ConsistentInstructionCasing's to report


def casing_warnings(warn: Callable[[str, int, str], None], words: list[tuple[str, int]]) -> None:
    """``ConsistentInstructionCasing``: each instruction against the file's majority."""
    lower = upper = 0
    for word, _ in words:
        if word == word.lower():
            lower += 1
        elif word == word.upper():
            upper += 1
    majority_lower = lower > upper
    for word, line in words:
        if majority_lower and word != word.lower():
            warn(
                CONSISTENT_INSTRUCTION_CASING,
                line,
                f"Command '{word}' should match the case of the command majority (lowercase)",
            )
        elif not majority_lower and word != word.upper():
            warn(
                CONSISTENT_INSTRUCTION_CASING,
                line,
                f"Command '{word}' should match the case of the command majority (uppercase)",
            )
