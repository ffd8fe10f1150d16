"""Every command's --help: a one-line purpose, an example, a help string for every argument (naming
its default where it has one), and no internal document references."""

from __future__ import annotations

import argparse
import re
from collections.abc import Iterator

import pytest

from codeinstruct.cli.main import build_parser

INTERNAL = re.compile(r"DESIGN|issue|section \d", re.IGNORECASE)


def _walk(parser: argparse.ArgumentParser, path: tuple[str, ...] = ()) -> Iterator[tuple[tuple[str, ...],
                                                                                       argparse.ArgumentParser]]:
    yield path, parser
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, child in action.choices.items():
                yield from _walk(child, (*path, name))


COMMANDS = list(_walk(build_parser()))


def test_the_walk_reaches_every_contracted_command() -> None:
    names = {" ".join(path) for path, _ in COMMANDS}
    assert {"", "demo", "serve", "sandbox", "sandbox exec", "eval", "eval humaneval", "eval mbpp", "generate",
            "decontaminate", "dedup", "train", "run", "compile", "submit"} <= names


@pytest.mark.parametrize(("path", "parser"), COMMANDS, ids=[" ".join(p) or "codeinstruct" for p, _ in COMMANDS])
def test_help_explains_the_command(path: tuple[str, ...], parser: argparse.ArgumentParser) -> None:
    text = parser.format_help()
    assert parser.description and parser.description.strip(), "no one-line purpose"
    assert "Example" in text and "codeinstruct " in text.split("Example", 1)[1], "no example"
    assert not INTERNAL.search(text), f"internal reference in help: {INTERNAL.search(text)}"
    for action in parser._actions:
        if isinstance(action, argparse._HelpAction):
            continue
        name = "/".join(action.option_strings) or action.dest
        assert action.help and action.help.strip(), f"{' '.join(path)}: argument {name} has no help"
        has_default = action.default not in (None, False, [], argparse.SUPPRESS) and action.option_strings
        if has_default:
            assert "default" in action.help, f"{' '.join(path)}: {name} does not say its default"
