"""The structure of an xlsx workbook as calamine reads it: its sheets and their parts, cell references, and the
defused XML parsing every reader of an uploaded workbook uses (a DTD or an entity declaration raises)."""

from __future__ import annotations

import re
import zipfile
from dataclasses import dataclass

from defusedxml.common import DTDForbidden, EntitiesForbidden  # type: ignore[import-untyped]
from defusedxml.ElementTree import DefusedXMLParser  # type: ignore[import-untyped]

from application.uploads.errors import FileTooLarge, UnreadableFile, UnsafeFile

__all__ = ["EXCEL_MAX_COLUMNS", "EXCEL_MAX_ROWS", "WorkbookSheet", "several_sheets_warning", "workbook_sheets"]

EXCEL_MAX_ROWS = 1_048_576
EXCEL_MAX_COLUMNS = 16_384
_CHUNK = 1 << 20


@dataclass(frozen=True)
class WorkbookSheet:
    """A sheet as xl/workbook.xml lists it, its part found as calamine finds it."""

    name: str
    state: str  # the `state` attribute: "visible" (also when absent), "hidden" or "veryHidden"
    kind: str  # the relationship type's last segment: "worksheet", "chartsheet", "dialogsheet"...
    part: zipfile.ZipInfo | None  # the member calamine reads, matched without regard to case; None if missing

    @property
    def readable(self) -> bool:
        """A visible worksheet: the sheets the reader considers, in workbook order."""
        return self.kind == "worksheet" and self.state == "visible"


def workbook_sheets(archive: zipfile.ZipFile) -> list[WorkbookSheet]:
    """The workbook's sheets in order, as calamine lists them (`sheets_metadata`): the relationship named by
    each `<sheet r:id>` gives the type and the part (target resolved as calamine does: "/xl/x", "xl/x" and
    "x" all mean xl/x). Parsed with the same defused parser as the extent check."""
    by_name = _members_by_name(archive)
    relationships, sheets = _workbook_entries(archive, by_name)
    found: list[WorkbookSheet] = []
    for attributes in sheets:
        relationship = next((relationship for relationship_id in _relationship_ids(attributes)
                             for relationship in relationships.get(relationship_id, ())), None)
        part = None
        kind = ""
        if relationship is not None:
            kind = relationship.get("Type", "").rpartition("/")[2]
            part = next(iter(by_name.get(_calamine_path(relationship["Target"]).lower(), ())), None)
        found.append(WorkbookSheet(name=attributes.get("name", ""), state=attributes.get("state", "visible"),
                                   kind=kind, part=part))
    return found


def several_sheets_warning(visible: int, name: str) -> str:
    """The warning given when a workbook has more than one visible worksheet and `name` was read."""
    return f'the workbook has {visible} visible sheets; only the first with data, "{name}", was read'


def _members_by_name(archive: zipfile.ZipFile) -> dict[str, list[zipfile.ZipInfo]]:
    by_name: dict[str, list[zipfile.ZipInfo]] = {}
    for info in archive.infolist():
        by_name.setdefault(info.filename.lower(), []).append(info)
    return by_name


def _workbook_entries(archive: zipfile.ZipFile, by_name: dict[str, list[zipfile.ZipInfo]]
                      ) -> tuple[dict[str, list[dict[str, str]]], list[dict[str, str]]]:
    """(the workbook's relationships with a Target, by Id; the attributes of its `<sheet>` elements, in order)."""
    relationships: dict[str, list[dict[str, str]]] = {}
    for attributes in _xml_elements(archive, by_name, "xl/_rels/workbook.xml.rels", "Relationship"):
        if "Id" in attributes and "Target" in attributes:
            relationships.setdefault(attributes["Id"], []).append(attributes)
    return relationships, _xml_elements(archive, by_name, "xl/workbook.xml", "sheet")


def _relationship_ids(attributes: dict[str, str]) -> list[str]:
    """The relationship ids a `<sheet>` names (namespaced `r:id`, as ElementTree spells it, or a bare prefix)."""
    return [value for key, value in attributes.items() if key.endswith("}id") or key in ("r:id", "relationships:id")]


def _calamine_path(target: str) -> str:
    """A relationship target as calamine resolves it: "/xl/x" and "xl/x" are xl/x, anything else is under xl/."""
    return target[1:] if target.startswith("/xl/") else target if target.startswith("xl/") else f"xl/{target}"


class _Collect:
    """A parser target keeping the attributes of the elements of one local name."""

    def __init__(self, local: str) -> None:
        self.local = local
        self.found: list[dict[str, str]] = []

    def start(self, tag: str, attributes: dict[str, str]) -> None:
        if tag.rpartition("}")[2] == self.local:
            self.found.append(dict(attributes))

    def close(self) -> None:
        return None


def _xml_elements(archive: zipfile.ZipFile, by_name: dict[str, list[zipfile.ZipInfo]], name: str,
                  local: str) -> list[dict[str, str]]:
    found: list[dict[str, str]] = []
    for info in by_name.get(name, ()):
        target = _Collect(local)
        _parse(archive, info, target)
        found.extend(target.found)
    return found


def _parse(archive: zipfile.ZipFile, info: zipfile.ZipInfo, target: object) -> None:
    """Feed a member to a defused parser (no DTD, no entities, no external references) calling `target`."""
    parser = DefusedXMLParser(target=target, forbid_dtd=True, forbid_entities=True, forbid_external=True)
    try:
        with archive.open(info) as stream:
            while chunk := stream.read(_CHUNK):
                parser.feed(chunk)
        parser.close()
    except (UnreadableFile, UnsafeFile, FileTooLarge):
        raise
    except ValueError as error:  # defusedxml's DTDForbidden, EntitiesForbidden, ExternalReferenceForbidden
        raise UnsafeFile(f"the workbook's part {info.filename} declares XML entities or a DTD") from error
    except SyntaxError as error:  # xml.etree.ElementTree.ParseError
        raise UnreadableFile(f"the workbook's part {info.filename} is not well-formed XML ({error})") from error


def _column_number(letters: str) -> int:
    number = 0
    for letter in letters.upper():
        number = number * 26 + ord(letter) - 64
    return number


def _column_name(number: int) -> str:
    name = ""
    while number:
        number, remainder = divmod(number - 1, 26)
        name = chr(65 + remainder) + name
    return name


def _up_to_number(bound: int) -> str:
    """A regular expression matching the decimal numbers 1..bound, written without leading zeros."""
    text = str(bound)
    options = [f"[1-9][0-9]{{0,{len(text) - 2}}}"] if len(text) > 1 else []
    options += _up_to(text, "0", "9", first="1")
    return "(?:" + "|".join(options) + ")"


def _up_to_column(bound: str) -> str:
    """A regular expression matching the column names A..bound (upper case)."""
    options = [f"[A-Z]{{1,{len(bound) - 1}}}"] if len(bound) > 1 else []
    options += _up_to(bound, "A", "Z", first="A")
    return "(?:" + "|".join(options) + ")"


def _up_to(bound: str, low: str, high: str, *, first: str) -> list[str]:
    """Patterns of the strings of len(bound) over low..high that sort at or before `bound`."""
    options = []
    for index, char in enumerate(bound):
        lowest = first if index == 0 else low
        if char > lowest:
            rest = len(bound) - index - 1
            options.append(re.escape(bound[:index]) + f"[{lowest}-{chr(ord(char) - 1)}]"
                           + (f"[{low}-{high}]{{{rest}}}" if rest else ""))
    options.append(re.escape(bound))
    return options


_REFERENCE = re.compile(r"([A-Za-z]*)([0-9]+)")


def _cell_position(attributes: dict[str, str], row: int, column: int) -> tuple[int, int]:
    """(row, column), from 0, of a `<c>` element: its `r` reference, or the position after the previous cell
    (`row`, `column`) when it has none; refuses malformed references and cells beyond Excel's limits."""
    reference = attributes.get("r")
    if reference is not None:
        row, maybe_column = _position(reference)
        if maybe_column is None:
            raise UnreadableFile(f"a cell of the workbook has the reference {reference!r}")
        column = maybe_column
    if row >= EXCEL_MAX_ROWS or column >= EXCEL_MAX_COLUMNS:
        raise UnsafeFile("a sheet of the workbook has cells beyond Excel's last row or column")
    return row, column


def _position(reference: str) -> tuple[int, int | None]:
    """(row, column or None), both from 0, of "B7" / "7" (calamine's get_row_and_optional_column)."""
    match = _REFERENCE.fullmatch(reference)
    if match is None or int(match.group(2)) == 0:
        raise UnreadableFile(f"a cell of the workbook has the reference {reference!r}")
    letters, digits = match.groups()
    if len(digits) > 8 or len(letters) > 4:
        raise UnsafeFile("a sheet of the workbook has cells beyond Excel's last row or column")
    return int(digits) - 1, (_column_number(letters) - 1 if letters else None)


def _forbid(*_: object) -> None:
    raise DTDForbidden(None, None, None)


def _forbid_entity(*_: object) -> None:
    raise EntitiesForbidden(None, None, None, None, None, None)


def _forbid_external(*_: object) -> int:
    raise EntitiesForbidden(None, None, None, None, None, None)
