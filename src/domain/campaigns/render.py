"""The campaigns' own renderer of `{name}` variables, compiled once per template and rendered per recipient.

The syntax is the messaging templates' (`domain/messaging/templates.py`, not imported: contexts stay apart), so a
template renders the same wherever it is sent from: `{name}` is a variable when the name is ASCII letters, digits
and underscores; `{{` and `}}` are literal braces; any other brace is kept as is (a CSS rule in a `<style>`).
Substitution is one pass: a value containing `{x}` is inserted as is.

For HTML (an email body) the template is trusted markup and the values are not: each value is HTML-escaped,
quotes included. For text (SMS, WhatsApp, an email subject) values are inserted unchanged; `one_line` turns the
line breaks of a rendered subject into spaces so that a value cannot start a new header.

Speed: `compile_template` splits the text once; `Compiled.render` checks the values, escapes each variable once
and joins a prepared list, so a recipient costs a few dictionary look-ups and one `str.join`.
"""

from __future__ import annotations

import html as html_module
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache

from domain.shared.errors import DomainError

__all__ = ["Compiled", "MissingValues", "compile_template", "one_line", "render", "variables_in"]

_TOKEN = re.compile(r"\{\{|\}\}|\{([A-Za-z0-9_]+)\}")
_LINE_BREAKS = re.compile(r"\s*(?:\r\n|[\r\n\v\f\x1c\x1d\x1e\x85\u2028\u2029])\s*")


class MissingValues(DomainError):
    """Rendering needs values that were not given; `names` lists every missing one, in order of appearance."""

    code = "missing_template_values"

    def __init__(self, names: Sequence[str]) -> None:
        super().__init__(f"missing template values: {', '.join(names)}")
        self.names = tuple(names)


@dataclass(frozen=True, slots=True)
class Compiled:
    """A template split into literal text and variable slots: `pieces[i]` is text, or None where a variable goes."""

    pieces: tuple[str | None, ...]
    slots: tuple[tuple[int, str], ...]  # (index in pieces, variable name) for each variable occurrence
    variables: tuple[str, ...]  # unique names, in order of first appearance

    def render(self, values: Mapping[str, str], *, html: bool = False) -> str:
        """Substitute `values` (HTML-escaped when `html`); raises `MissingValues` naming every absent variable."""
        try:
            given = {name: values[name] for name in self.variables}
        except KeyError:
            raise MissingValues([name for name in self.variables if name not in values]) from None
        if html:
            given = {name: html_module.escape(value, quote=True) for name, value in given.items()}
        out: list[str | None] = list(self.pieces)
        for index, name in self.slots:
            out[index] = given[name]
        return "".join(out)  # type: ignore[arg-type]  # every None slot was filled above


def compile_template(text: str) -> Compiled:
    """Split `text` once into literal pieces and variable slots."""
    pieces: list[str | None] = []
    slots: list[tuple[int, str]] = []
    literal: list[str] = []
    position = 0
    for match in _TOKEN.finditer(text):
        literal.append(text[position:match.start()])
        name = match.group(1)
        if name is None:
            literal.append(match.group(0)[0])  # `{{` -> `{`, `}}` -> `}`
        else:
            pieces.append("".join(literal))
            literal = []
            slots.append((len(pieces), name))
            pieces.append(None)
        position = match.end()
    literal.append(text[position:])
    pieces.append("".join(literal))
    return Compiled(pieces=tuple(pieces), slots=tuple(slots), variables=tuple(dict.fromkeys(n for _, n in slots)))


@lru_cache(maxsize=256)
def _cached(text: str) -> Compiled:
    return compile_template(text)


def render(text: str, values: Mapping[str, str], html: bool = False) -> str:
    """Render `text` once (compiled templates are cached); see `Compiled.render`."""
    return _cached(text).render(values, html=html)


def variables_in(text: str) -> list[str]:
    """The variable names `text` uses, unique, in order of first appearance."""
    return list(_cached(text).variables)


def one_line(text: str) -> str:
    """`text` with each line break (and the spaces around it) made one space, and stripped: for a subject line."""
    return _LINE_BREAKS.sub(" ", text).strip()
