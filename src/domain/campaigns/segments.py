"""Segments: a typed JSON filter language over customer, policy and case fields, parsed into a small tree.

A filter is `{"all": [...]}`, `{"any": [...]}`, `{"not": {...}}` or a condition
`{"field": "policy.renewal_date", "op": "within_days", "value": 30}`. Only the fields of `FIELDS` exist, each with
a type that decides its operators (`OPERATORS`). `parse_filter` checks everything at once and raises
`ValidationFailed` with one error per problem, named by a JSON-path-like field (`filter.all[2].value`).
Limits: at most `MAX_DEPTH` nested groups (all/any/not), `MAX_CONDITIONS` conditions, `MAX_LIST` values a list;
a group is never empty (an empty filter would silently mean "everyone").

Values are normalised: dates become `date`, amounts `Decimal`, lists (in, not_in, between) tuples in order without
duplicates, and relative days concrete dates from the `today` given. What each operator means, as an adapter must
compile it (`Condition.comparison` gives the pair to compile):
- eq, ne, gt, gte, lt, lte: the field compared with the value; contains: the text contains the value, ignoring
  case (ILIKE with `%` and `_` escaped); in / not_in: the field is (not) one of the values;
  between (low, high): low <= field <= high; is_null true: the field is missing, false: it is present;
- older_than_days N (N >= 0): field < today - N, compiled as ("lt", that date);
- within_days N: N > 0 the next N days, today <= field <= today + N; N < 0 the last |N| days,
  today - |N| <= field <= today; compiled as ("between", (low, high)). On fields that only hold past dates
  (`FieldSpec.past`) a positive N is refused (it could only match nothing).
Date fields stored as timestamps (customer.created_at, case.last_contact_date) compare by their date in the
business time zone. Missing values follow SQL: a condition on a NULL is unknown, `not` of unknown is unknown, and a
row matches only when the whole filter is true (`evaluate` is the reference, for in-memory twins).
"""

from __future__ import annotations

import operator
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal, InvalidOperation
from enum import StrEnum
from types import MappingProxyType
from typing import Any, TypeAlias

from domain.shared.errors import FieldError, ValidationFailed

__all__ = [
    "FIELDS", "MAX_CONDITIONS", "MAX_DEPTH", "MAX_LIST", "OPERATORS", "And", "Condition", "FieldSpec", "FieldType",
    "Filter", "Not", "Or", "describe", "evaluate", "parse_filter", "referenced_tables",
]

MAX_DEPTH = 5
MAX_CONDITIONS = 50
MAX_LIST = 500
MAX_TEXT = 255
MAX_DAYS = 36_500
MAX_INT = 2**31 - 1
MAX_AMOUNT = Decimal(10) ** 12


class FieldType(StrEnum):
    STR = "str"
    INT = "int"
    DECIMAL = "decimal"
    DATE = "date"


@dataclass(frozen=True, slots=True)
class FieldSpec:
    name: str
    type: FieldType
    label: str  # for `describe`
    tables: tuple[str, ...]  # the tables a query must join to read it
    past: bool = False  # only ever holds past dates (within_days must look back)


def _spec(name: str, kind: FieldType, label: str, *tables: str, past: bool = False) -> tuple[str, FieldSpec]:
    return name, FieldSpec(name, kind, label, tables, past)


FIELDS: Mapping[str, FieldSpec] = MappingProxyType(dict([
    _spec("customer.branch", FieldType.STR, "branch", "policies", "branches"),  # branches.code of the policy's branch
    _spec("customer.city", FieldType.STR, "city", "customers"),
    _spec("customer.state", FieldType.STR, "state", "customers"),
    _spec("customer.created_at", FieldType.DATE, "customer since", "customers", past=True),
    _spec("policy.policy_type", FieldType.STR, "policy type", "policies"),
    _spec("policy.status", FieldType.STR, "policy status", "policies"),
    _spec("policy.premium_amount", FieldType.DECIMAL, "premium", "policies"),
    _spec("policy.renewal_date", FieldType.DATE, "renewal date", "policies"),
    _spec("policy.end_date", FieldType.DATE, "policy end date", "policies"),
    _spec("case.status", FieldType.STR, "case status", "renewal_cases"),
    _spec("case.priority", FieldType.STR, "case priority", "renewal_cases"),
    _spec("case.assigned_to", FieldType.INT, "assigned user", "renewal_cases"),
    _spec("case.last_contact_date", FieldType.DATE, "last contact", "renewal_cases", past=True),
    _spec("case.communication_attempts", FieldType.INT, "contact attempts", "renewal_cases"),
]))

_COMMON = frozenset({"eq", "ne", "in", "not_in", "is_null"})
_ORDERED = _COMMON | {"gt", "gte", "lt", "lte", "between"}
OPERATORS: Mapping[FieldType, frozenset[str]] = MappingProxyType({
    FieldType.STR: _COMMON | {"contains"},
    FieldType.INT: _ORDERED,
    FieldType.DECIMAL: _ORDERED,
    FieldType.DATE: _ORDERED | {"older_than_days", "within_days"},
})
_ALL_OPERATORS = frozenset().union(*OPERATORS.values())
_GROUPS = ("all", "any", "not")
_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")

Scalar: TypeAlias = str | int | Decimal | date
Value: TypeAlias = Scalar | bool | tuple[Scalar, ...]


@dataclass(frozen=True, slots=True)
class Condition:
    field: str
    op: str
    value: Value  # normalised; see the module docstring
    days: int | None = None  # older_than_days / within_days: the number of days as written

    @property
    def comparison(self) -> tuple[str, Value]:
        """The operator and value to compile: relative operators become `lt` / `between` on concrete dates."""
        if self.op == "older_than_days":
            return "lt", self.value
        if self.op == "within_days":
            return "between", self.value
        return self.op, self.value


@dataclass(frozen=True, slots=True)
class And:
    children: tuple[Filter, ...]


@dataclass(frozen=True, slots=True)
class Or:
    children: tuple[Filter, ...]


@dataclass(frozen=True, slots=True)
class Not:
    child: Filter


Filter: TypeAlias = And | Or | Not | Condition


def parse_filter(obj: object, today: date) -> Filter:
    """Validate and normalise a JSON filter; raises `ValidationFailed` naming every problem."""
    parser = _Parser(today)
    parsed = parser.node(obj, "filter", 0)
    if parser.conditions > MAX_CONDITIONS:
        parser.fail("filter", f"has {parser.conditions} conditions; at most {MAX_CONDITIONS} are allowed")
    if parser.errors or parsed is None:
        raise ValidationFailed(parser.errors or [FieldError("filter", "is invalid")])
    return parsed


def referenced_tables(node: Filter) -> set[str]:
    """The tables the conditions of `node` read (customers, policies, branches, renewal_cases)."""
    return {table for condition in _conditions(node) for table in FIELDS[condition.field].tables}


def evaluate(node: Filter, record: Mapping[str, object]) -> bool:
    """Whether `record` (field name -> value; absent = NULL) matches, with SQL's three-valued logic."""
    return _truth(node, record) is True


def describe(node: Filter) -> str:
    """A sentence a person can read, e.g. 'renewal date is within the next 30 days and policy type is "Motor"'."""
    if isinstance(node, Condition):
        return _describe_condition(node)
    if isinstance(node, Not):
        return f"not ({describe(node.child)})"
    joiner = " and " if isinstance(node, And) else " or "
    return joiner.join(f"({describe(c)})" if isinstance(c, And | Or) and len(c.children) > 1 else describe(c)
                       for c in node.children)


class _Parser:
    def __init__(self, today: date) -> None:
        self.today = today
        self.errors: list[FieldError] = []
        self.conditions = 0

    def fail(self, path: str, message: str) -> None:
        self.errors.append(FieldError(path, message))

    def node(self, obj: object, path: str, depth: int) -> Filter | None:
        if not isinstance(obj, dict):
            self.fail(path, "must be an object: a condition or a group (all, any, not)")
            return None
        groups = [key for key in _GROUPS if key in obj]
        if not groups:
            return self.condition(obj, path)
        if len(obj) != 1:
            self.fail(path, "a group has exactly one key: all, any or not")
            return None
        if depth >= MAX_DEPTH:
            self.fail(path, f"groups are nested more than {MAX_DEPTH} deep")
            return None
        key = groups[0]
        if key == "not":
            child = self.node(obj["not"], f"{path}.not", depth + 1)
            return Not(child) if child is not None else None
        items = obj[key]
        if not isinstance(items, list) or not items:
            self.fail(f"{path}.{key}", "must be a non-empty list of conditions or groups")
            return None
        children = [self.node(item, f"{path}.{key}[{i}]", depth + 1) for i, item in enumerate(items)]
        if any(child is None for child in children):
            return None
        kept = tuple(child for child in children if child is not None)
        return And(kept) if key == "all" else Or(kept)

    def condition(self, obj: dict[object, object], path: str) -> Condition | None:
        self.conditions += 1
        for key in obj:
            if key not in ("field", "op", "value"):
                self.fail(f"{path}.{key}", "is not a condition key (field, op, value) nor a group (all, any, not)")
        name, op = obj.get("field"), obj.get("op")
        spec = FIELDS.get(name) if isinstance(name, str) else None
        if spec is None:
            self.fail(f"{path}.field", "is required" if name is None else f"must be one of {', '.join(FIELDS)}")
        if not isinstance(op, str) or op not in _ALL_OPERATORS:
            known = ", ".join(sorted(_ALL_OPERATORS))
            self.fail(f"{path}.op", "is required" if op is None else f"must be one of {known}")
            return None
        if spec is None:
            return None
        if op not in OPERATORS[spec.type]:
            allowed = ", ".join(sorted(OPERATORS[spec.type]))
            self.fail(f"{path}.op", f"'{op}' does not apply to {spec.name} ({spec.type.value}); use one of {allowed}")
            return None
        errors_before = len(self.errors)
        condition = self.value(spec, op, obj, f"{path}.value")
        return condition if len(self.errors) == errors_before else None

    def value(self, spec: FieldSpec, op: str, obj: dict[object, object], path: str) -> Condition | None:
        if op == "is_null":
            flag = obj.get("value", True)
            if not isinstance(flag, bool):
                self.fail(path, "must be true (the field is empty) or false (it is set)")
            return Condition(spec.name, op, flag is True)
        if "value" not in obj:
            self.fail(path, "is required")
            return None
        raw = obj["value"]
        if op in ("older_than_days", "within_days"):
            return self.days(spec, op, raw, path)
        if op in ("in", "not_in", "between"):
            return self.listed(spec, op, raw, path)
        value = self.scalar(spec.type, raw, path)
        return Condition(spec.name, op, value) if value is not None else None

    def days(self, spec: FieldSpec, op: str, raw: object, path: str) -> Condition | None:
        if not isinstance(raw, int) or isinstance(raw, bool) or abs(raw) > MAX_DAYS:
            self.fail(path, f"must be a whole number of days between -{MAX_DAYS} and {MAX_DAYS}")
            return None
        if op == "older_than_days":
            if raw < 0:
                self.fail(path, "must be zero or more days")
                return None
            return Condition(spec.name, op, self.today - timedelta(days=raw), raw)
        if raw > 0 and spec.past:
            self.fail(path, f"{spec.name} only holds past dates: use -{raw} for the last {raw} days")
            return None
        other = self.today + timedelta(days=raw)
        return Condition(spec.name, op, (min(self.today, other), max(self.today, other)), raw)

    def listed(self, spec: FieldSpec, op: str, raw: object, path: str) -> Condition | None:
        if op == "between":
            if not isinstance(raw, list) or len(raw) != 2:
                self.fail(path, "must be a list of two values: [low, high]")
                return None
        elif not isinstance(raw, list) or not raw or len(raw) > MAX_LIST:
            self.fail(path, f"must be a list of 1 to {MAX_LIST} values")
            return None
        values = [self.scalar(spec.type, item, f"{path}[{i}]") for i, item in enumerate(raw)]
        kept = tuple(v for v in values if v is not None)
        if len(kept) != len(values):
            return None
        if op == "between":
            low, high = kept
            if high < low:  # type: ignore[operator]  # both of the field's one type
                self.fail(path, "the low bound is above the high bound")
                return None
            return Condition(spec.name, op, kept)
        return Condition(spec.name, op, tuple(dict.fromkeys(kept)))

    def scalar(self, kind: FieldType, raw: object, path: str) -> Scalar | None:
        if kind is FieldType.STR:
            if isinstance(raw, str) and raw.strip() and len(raw) <= MAX_TEXT:
                return raw
            self.fail(path, f"must be a non-blank text of at most {MAX_TEXT} characters")
        elif kind is FieldType.INT:
            if isinstance(raw, int) and not isinstance(raw, bool) and 0 <= raw <= MAX_INT:
                return raw
            self.fail(path, f"must be a whole number from 0 to {MAX_INT}")
        elif kind is FieldType.DECIMAL:
            amount = _decimal(raw)
            if amount is not None:
                return amount
            self.fail(path, f"must be a number (or a numeric text) below {MAX_AMOUNT:,} in size")
        else:
            if isinstance(raw, str) and _ISO_DATE.fullmatch(raw):
                try:
                    return date.fromisoformat(raw)
                except ValueError:
                    pass
            self.fail(path, "must be a date as YYYY-MM-DD")
        return None


def _decimal(raw: object) -> Decimal | None:
    if isinstance(raw, bool) or not isinstance(raw, int | float | str):
        return None
    try:
        amount = Decimal(str(raw).strip())
    except InvalidOperation:
        return None
    return amount if amount.is_finite() and abs(amount) < MAX_AMOUNT else None


def _conditions(node: Filter) -> list[Condition]:
    if isinstance(node, Condition):
        return [node]
    if isinstance(node, Not):
        return _conditions(node.child)
    return [c for child in node.children for c in _conditions(child)]


def _truth(node: Filter, record: Mapping[str, object]) -> bool | None:
    if isinstance(node, Condition):
        return _test(node, record.get(node.field))
    if isinstance(node, Not):
        inner = _truth(node.child, record)
        return None if inner is None else not inner
    results = [_truth(child, record) for child in node.children]
    decisive = isinstance(node, Or)  # the value that settles the group: True for any, False for all
    if decisive in results:
        return decisive
    return None if None in results else not decisive


def _test(condition: Condition, actual: object) -> bool | None:
    op, expected = condition.comparison
    if op == "is_null":
        return (actual is None) is expected
    if actual is None:
        return None
    if op in ("in", "not_in"):
        assert isinstance(expected, tuple)
        return (actual in expected) is (op == "in")
    if op == "between":
        assert isinstance(expected, tuple)
        low, high = expected
        return bool(low <= actual <= high)  # type: ignore[operator]
    if op == "contains":
        return str(expected).lower() in str(actual).lower()  # as PostgreSQL's ILIKE folds case
    return bool(_COMPARE[op](actual, expected))


_COMPARE: dict[str, Callable[[Any, Any], Any]] = {
    "eq": operator.eq, "ne": operator.ne, "gt": operator.gt, "gte": operator.ge, "lt": operator.lt, "lte": operator.le,
}
_WORDS = {"eq": "is", "ne": "is not", "gt": "is above", "gte": "is at least", "lt": "is below", "lte": "is at most"}
_DATE_WORDS = {"gt": "is after", "gte": "is on or after", "lt": "is before", "lte": "is on or before"}


def _show(value: object) -> str:
    return f'"{value}"' if isinstance(value, str) else str(value)


def _show_list(values: tuple[Scalar, ...], last: str) -> str:
    shown = [_show(v) for v in values[:10]]
    if len(values) > 10:
        return f"{', '.join(shown)} {last} {len(values) - 10} more"
    return shown[0] if len(shown) == 1 else f"{', '.join(shown[:-1])} {last} {shown[-1]}"


def _describe_condition(c: Condition) -> str:
    label = FIELDS[c.field].label
    value = c.value
    if c.op == "is_null":
        return f"{label} is {'empty' if value else 'set'}"
    if isinstance(value, tuple):
        if c.op == "in":
            return f"{label} is {_show_list(value, 'or') if len(value) == 1 else 'one of ' + _show_list(value, 'or')}"
        if c.op == "not_in":
            return f"{label} is {'not ' + _show(value[0]) if len(value) == 1 else 'none of ' + _show_list(value, 'or')}"
        low, high = value
        if c.op == "within_days":
            days = c.days or 0
            if days == 0:
                return f"{label} is today ({low})"
            span = f"the next {days} days" if days > 0 else f"the last {-days} days"
            return f"{label} is within {span} ({low} to {high})"
        return f"{label} is between {_show(low)} and {_show(high)}"
    if c.op == "older_than_days":
        return f"{label} is more than {c.days} days ago (before {value})"
    if c.op == "contains":
        return f"{label} contains {_show(value)}"
    words = _DATE_WORDS.get(c.op, _WORDS[c.op]) if isinstance(value, date) else _WORDS[c.op]
    return f"{label} {words} {_show(value)}"
