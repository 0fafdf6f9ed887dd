"""Message templates: `{name}` variables, rendering for SMS/WhatsApp text and for HTML email.

Syntax: `{name}` where the name is one or more ASCII letters, digits or underscores; `{{` and `}}` are literal
braces (as in `str.format`). Any other brace is kept literally (`{ }`, `{a-b}`, a CSS rule in a `<style>`), so
staff-written HTML never fails to parse; only well-formed `{name}` markers are variables. Substitution is a single
pass: a value containing `{x}` is inserted as is, never expanded again.

Email: the content is HTML written by staff and trusted as markup; the VALUES are not (a customer called
`<script>` stays text), so each value is HTML-escaped, quotes included so a value inside an attribute cannot
close it. A content with no tag at all is plain text: it is escaped as a whole and its line breaks become `<br>`.
The subject is a header, not HTML: nothing is escaped, but line breaks are turned into spaces so a value cannot
inject a header. The plain-text alternative is derived from the rendered HTML (see `html_to_text`).
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from html.parser import HTMLParser

from domain.shared.errors import DomainError

__all__ = [
    "MissingTemplateValues",
    "RenderedEmail",
    "html_to_text",
    "render_email",
    "render_text",
    "undeclared_variables",
    "variables_in",
]

_TOKEN = re.compile(r"\{\{|\}\}|\{([A-Za-z0-9_]+)\}")
_TAG = re.compile(r"<(?:/?[A-Za-z][^>]*|!--.*?--|![A-Za-z][^>]*)>", re.DOTALL)
_LINE_BREAKS = re.compile(r"\r\n|[\r\n\v\f\x1c\x1d\x1e\x85\u2028\u2029]")
_HTML_SPACE = re.compile(r"[ \t\n\r\f]+")
_SPACES = re.compile(r" {2,}")
_SUBJECT_BREAKS = re.compile(r"\s*(?:\r\n|[\r\n\v\f\x1c\x1d\x1e\x85\u2028\u2029])\s*")
_Escape = Callable[[str], str]

_PARAGRAPH_TAGS = frozenset({"p", "h1", "h2", "h3", "h4", "h5", "h6", "blockquote", "pre", "table", "ul", "ol"})
_LINE_TAGS = frozenset({"br", "div", "li", "tr", "hr", "section", "article", "header", "footer", "dt", "dd"})
_CELL_TAGS = frozenset({"td", "th"})
_HIDDEN_TAGS = frozenset({"script", "style", "head", "title", "template"})


class MissingTemplateValues(DomainError):
    """Rendering needs values that were not given; `names` lists every missing one, in order of appearance."""

    code = "missing_template_values"

    def __init__(self, names: Sequence[str]) -> None:
        super().__init__(f"missing template values: {', '.join(names)}")
        self.names = tuple(names)


@dataclass(frozen=True, slots=True)
class RenderedEmail:
    subject: str
    html: str
    text: str


def variables_in(text: str) -> list[str]:
    """The variable names used in `text`, unique, in order of first appearance."""
    return list(dict.fromkeys(m.group(1) for m in _TOKEN.finditer(text) if m.group(1) is not None))


def undeclared_variables(*texts: str, declared: Iterable[str]) -> list[str]:
    """The variables used in any of `texts` that `declared` does not list (unique, in order of appearance)."""
    known = set(declared)
    used = dict.fromkeys(name for text in texts for name in variables_in(text))
    return [name for name in used if name not in known]


def render_text(text: str, values: Mapping[str, str]) -> str:
    """Substitute `values` into `text` as is (SMS, WhatsApp); raises `MissingTemplateValues` naming all gaps."""
    _require(values, text)
    return _substitute(text, values, escape=_identity)


def render_email(subject: str, html_content: str, values: Mapping[str, str]) -> RenderedEmail:
    """Render an email's subject, HTML body and the body's plain-text alternative from one set of values."""
    _require(values, subject, html_content)
    rendered_subject = _SUBJECT_BREAKS.sub(" ", _substitute(subject, values, escape=_identity)).strip()
    if _TAG.search(html_content):
        body = _substitute(html_content, values, escape=_escape)
    else:
        body = _LINE_BREAKS.sub("<br>\n", _substitute(html_content, values, escape=_escape, literal=_escape))
    return RenderedEmail(subject=rendered_subject, html=body, text=html_to_text(body))


def html_to_text(markup: str) -> str:
    """A readable plain-text version of `markup`, for the text/plain part of an email.

    Block elements (p, div, br, li, tr, h1-h6 ...) become line breaks, `<a href=u>t</a>` becomes `t (u)` unless
    the text already is the address (`mailto:` aside; in-page `#` and `javascript:` links keep only their text),
    scripts, styles and the head are dropped, entities are unescaped, spaces are collapsed as a browser would
    (`<pre>` included), every line is stripped and runs of blank lines become one blank line.
    """
    parser = _TextExtractor()
    parser.feed(markup)
    parser.close()
    lines = [_SPACES.sub(" ", line).strip() for line in "".join(parser.parts).split("\n")]
    kept: list[str] = []
    for line in lines:
        if line or (kept and kept[-1]):
            kept.append(line)
    while kept and not kept[-1]:
        kept.pop()
    return "\n".join(kept)


def _identity(value: str) -> str:
    return value


def _escape(value: str) -> str:
    return html.escape(value, quote=True)


def _require(values: Mapping[str, str], *texts: str) -> None:
    missing = [name for name in dict.fromkeys(n for t in texts for n in variables_in(t)) if name not in values]
    if missing:
        raise MissingTemplateValues(missing)


def _substitute(text: str, values: Mapping[str, str], *, escape: _Escape, literal: _Escape = _identity) -> str:
    out: list[str] = []
    position = 0
    for match in _TOKEN.finditer(text):
        out.append(literal(text[position:match.start()]))
        name = match.group(1)
        out.append(escape(values[name]) if name is not None else literal(match.group(0)[0]))
        position = match.end()
    out.append(literal(text[position:]))
    return "".join(out)


class _TextExtractor(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._hidden = 0
        self._links: list[tuple[str, int]] = []  # (href, index in parts where the link text starts)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _HIDDEN_TAGS:
            self._hidden += 1
        elif tag == "body":
            self._hidden = 0  # `</head>` may be omitted; the body is never hidden
        elif tag == "a":
            self._links.append((dict(attrs).get("href") or "", len(self.parts)))
        self._break_for(tag)

    def handle_endtag(self, tag: str) -> None:
        if tag in _HIDDEN_TAGS:
            self._hidden = max(0, self._hidden - 1)
        elif tag == "a" and self._links:
            self._close_link(*self._links.pop())
        if tag not in ("br", *_CELL_TAGS):
            self._break_for(tag)

    def handle_data(self, data: str) -> None:
        if not self._hidden:
            self.parts.append(_HTML_SPACE.sub(" ", data))

    def _break_for(self, tag: str) -> None:
        if self._hidden:
            return
        if tag == "br":
            self.parts.append("\n")
        elif tag in _PARAGRAPH_TAGS:
            self._end_lines(2)
        elif tag in _LINE_TAGS:
            self._end_lines(1)
        elif tag in _CELL_TAGS:
            self.parts.append(" ")

    def _end_lines(self, wanted: int) -> None:
        """Make the output end with at least `wanted` line breaks (spaces after the last text do not count)."""
        present = 0
        for part in reversed(self.parts):
            text = part.rstrip(" \n")
            present += part[len(text):].count("\n")
            if text:
                break
        if present < wanted:
            self.parts.append("\n" * (wanted - present))

    def _close_link(self, href: str, start: int) -> None:
        href = href.strip()
        label = " ".join("".join(self.parts[start:]).split())
        if not href or href.startswith("#") or href.lower().startswith("javascript:"):
            return
        address = href[len("mailto:"):] if href.lower().startswith("mailto:") else href
        if not label:
            self.parts.append(address)
        elif label not in (href, address):
            self.parts.append(f" ({href})")
