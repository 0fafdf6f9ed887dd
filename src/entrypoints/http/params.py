"""Query-parameter types every list endpoint shares (documented once in the OpenAPI document)."""

from __future__ import annotations

from typing import Annotated

from litestar.params import QueryParameter

__all__ = ["Csv", "Limit", "Page", "Search", "Sort"]

Page = Annotated[int, QueryParameter(description="Page number, from 1")]
Limit = Annotated[int, QueryParameter(description="Items per page, 1 to 100")]
Sort = Annotated[str | None, QueryParameter(description="`field` or `-field`, comma-separated; see the whitelist")]
Csv = Annotated[str | None, QueryParameter(description="One value or several separated by commas (any of)")]
Search = Annotated[str | None, QueryParameter(description="Full-text search; every word matches as a prefix")]
