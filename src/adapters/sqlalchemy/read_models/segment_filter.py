"""A parsed segment filter (domain/campaigns/segments.py) compiled to a SQLAlchemy Core condition.

Every value is a bound parameter; no SQL is written as text. SQL's own three-valued logic gives the semantics
`segments.evaluate` defines (a condition on NULL is unknown, and a row matches only when the whole filter is
true). `contains` is ILIKE with `%`, `_` and the escape character escaped. Date fields stored as timestamps are
compared by their date in the business time zone: `(column AT TIME ZONE :tz)::date`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import ColumnElement, Date, and_, cast, func, not_, or_

from domain.campaigns.segments import And, Condition, Filter, Not

__all__ = ["compile_filter", "like_pattern"]


def like_pattern(text: str) -> str:
    """`%text%` with the LIKE wildcards of `text` escaped (escape character `\\`)."""
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def _condition(condition: Condition, column: ColumnElement[Any]) -> ColumnElement[bool]:
    op, value = condition.comparison
    if op == "is_null":
        return column.is_(None) if value else column.is_not(None)
    if op == "contains":
        return column.ilike(like_pattern(str(value)), escape="\\")
    if op in ("in", "not_in"):
        assert isinstance(value, tuple)
        return column.in_(value) if op == "in" else column.not_in(value)
    if op == "between":
        assert isinstance(value, tuple)
        low, high = value
        return column.between(low, high)
    compare: dict[str, Any] = {"eq": column.__eq__, "ne": column.__ne__, "gt": column.__gt__, "gte": column.__ge__,
                               "lt": column.__lt__, "lte": column.__le__}
    found: ColumnElement[bool] = compare[op](value)
    return found


def compile_filter(node: Filter, columns: Mapping[str, ColumnElement[Any]], *, business_timezone: str,
                   timestamps: frozenset[str] = frozenset()) -> ColumnElement[bool]:
    """The condition of `node` over `columns` (field name -> column); `timestamps` names the fields whose column is
    a timestamp compared by its date."""
    if isinstance(node, Condition):
        column = columns[node.field]
        if node.field in timestamps:
            column = cast(func.timezone(business_timezone, column), Date)
        return _condition(node, column)
    if isinstance(node, Not):
        return not_(compile_filter(node.child, columns, business_timezone=business_timezone, timestamps=timestamps))
    parts = [compile_filter(child, columns, business_timezone=business_timezone, timestamps=timestamps)
             for child in node.children]
    return and_(*parts) if isinstance(node, And) else or_(*parts)
