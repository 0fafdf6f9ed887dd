"""One data row of a policy book in, a BookRow (valid) or a RowError (every problem of the row) out."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from functools import partial
from typing import Any, Protocol

from domain.shared.contact import PhoneNumberNormaliser
from domain.shared.errors import FieldError, ValidationFailed
from domain.shared.money import MAX_AMOUNT
from domain.uploads import cells as parsing
from domain.uploads.columns import Column, ColumnKind, by_key
from domain.uploads.headers import HeaderMap
from domain.uploads.keys import derive_customer_code, derive_policy_number
from domain.uploads.model import BookRow, RowError

__all__ = [
    "DEFAULT_GRACE_DAYS", "MAX_SUM_ASSURED", "OLDEST_BIRTH_DATE", "PolicyTermLike", "RowValidator", "TermRule",
    "check_term",
]

DEFAULT_GRACE_DAYS = 30  # policies.grace_period_days when the book does not say (it has no such column)
MAX_GRACE_DAYS = 365
MAX_SUM_ASSURED = Decimal("999999999999.99")  # NUMERIC(14,2)
OLDEST_BIRTH_DATE = date(1900, 1, 1)
MAX_CUSTOMER_CODE = 50
MAX_POLICY_NUMBER = 100
MAX_TEXT = {"first_name": 100, "last_name": 100, "notes": 2000, "address_line1": 255, "city": 100, "state": 100,
            "postal_code": 20}
_ADDRESS_PARTS = (("address_line1", "line1"), ("city", "city"), ("state", "state"), ("postal_code", "postal_code"))
_CACHE_LIMIT = 10_000  # distinct raw agent e-mails / branch codes remembered per upload


class PolicyTermLike(Protocol):
    @property
    def renewal_date(self) -> date: ...


# (start_date, end_date, renewal_date or None, grace_period_days) -> the term, or ValidationFailed with the
# fields startDate / endDate / renewalDate / gracePeriodDays: the signature of domain.policies.rules.validate_term
TermRule = Callable[[date, date, date | None, int], PolicyTermLike]


@dataclass(frozen=True, slots=True)
class _Term:
    start_date: date
    end_date: date
    renewal_date: date
    grace_period_days: int


def check_term(start_date: date, end_date: date, renewal_date: date | None, grace_period_days: int) -> _Term:
    """The policies context's term rule (`domain.policies.rules.validate_term`), restated.

    The uploads domain may not import another context's domain (tests/architecture), so the rule is
    restated here with the same fields and messages; a unit test holds the two equal, and the composition
    root may pass `validate_term` itself to RowValidator as `term_rule`.
    """
    errors: list[FieldError] = []
    if end_date <= start_date:
        errors.append(FieldError("endDate", "must be after startDate"))
    if renewal_date is not None and renewal_date < start_date:
        errors.append(FieldError("renewalDate", "must not be before startDate"))
    if not 0 <= grace_period_days <= MAX_GRACE_DAYS:
        errors.append(FieldError("gracePeriodDays", f"must be between 0 and {MAX_GRACE_DAYS}"))
    if errors:
        raise ValidationFailed(errors)
    return _Term(start_date, end_date, renewal_date or end_date, grace_period_days)


def _policy_digest(policy_number: str) -> bytes:
    """8 bytes per remembered policy number: a false "duplicate" among 1M rows has odds of about 3e-8."""
    return hashlib.blake2b(policy_number.encode("utf-8"), digest_size=8).digest()


Parser = Callable[[object], Any]
_MEMO_LIMIT = 4096  # distinct cell texts remembered per memoised column


def _bind(parse: Callable[..., Any], **options: Any) -> Parser:
    """`parse` with its options fixed: one cell in, the parsed value out."""
    return partial(parse, **options)


def _memo(parse: Parser, *, copy: bool) -> Parser:
    """`parse` remembering the results of up to _MEMO_LIMIT distinct texts (errors are not remembered)."""
    memo: dict[str, Any] = {}

    def parse_memo(raw: object) -> Any:
        if type(raw) is not str:
            return parse(raw)
        hit = memo.get(raw)
        if hit is None:
            hit = parse(raw)
            if hit is None or len(memo) >= _MEMO_LIMIT:
                return hit
            memo[raw] = hit
        return dict(hit) if copy else hit

    return parse_memo


class RowValidator:
    """Validates the data rows of one file against its header; remembers accepted policy numbers.

    Everything that depends only on the header (which cell, which parser, which header text) is decided
    once here, so a row costs a few dictionary look-ups and one parser call per non-empty cell.
    """

    def __init__(self, header: HeaderMap, *, policy_types: Collection[str], branch_ids: Mapping[str, int],
                 agent_ids: Mapping[str, int], phones: PhoneNumberNormaliser, today: date,
                 term_rule: TermRule = check_term) -> None:
        """`branch_ids`: branch code (upper case) -> id; `agent_ids`: user e-mail (lower case) -> user id."""
        self._headers = list(header.headers)
        self._width = len(self._headers)
        self._today = today
        self._term_rule = term_rule
        self._branch_ids = branch_ids
        self._agent_ids = agent_ids
        self._policy_types = parsing.choice_table(policy_types)
        self._seen: set[bytes] = set()
        self._branch_cache: dict[str, int] = {}  # raw cell text -> id, for the texts found
        self._agent_cache: dict[str, int] = {}
        self._phones = phones
        # (name in the parsed values, cell index, header as written, parser), in column order
        self._fields: list[tuple[str, int, str, Parser]] = []
        for key, index in sorted(header.index_of.items(), key=lambda item: item[1]):
            found = self._parser(by_key(key), header.headers[index])
            if found is not None:
                self._fields.append((found[0], index, header.headers[index], found[1]))
        self._h = {key: header.header_of(key) for key in (
            "first_name", "last_name", "email", "phone", "date_of_birth", "policy_type", "premium_amount",
            "start_date", "end_date", "renewal_date", "policy_number", "customer_code")}
        h = self._h
        self._term_fields = {"startDate": h["start_date"], "endDate": h["end_date"],
                             "renewalDate": h["renewal_date"], "gracePeriodDays": ""}
        self._has_policy_number = "policy_number" in header.index_of
        self._order: dict[str, int] = {}
        for index, written in enumerate(self._headers):
            self._order.setdefault(written, index)
        for key in self._h:  # a required column the file lacks is named by its key
            self._order.setdefault(key, self._width)

    @property
    def accepted_policy_numbers(self) -> int:
        """How many distinct policy numbers this validator has accepted so far."""
        return len(self._seen)

    # --- set-up -------------------------------------------------------------------------------------

    def _parser(self, column: Column, h: str) -> tuple[str, Parser] | None:
        """(name in the parsed values, parser of one cell) of a column; None for the ignored ones."""
        key, kind = column.key, column.kind
        if kind is ColumnKind.IGNORED:
            return None
        if key == "policy_number":
            return key, _bind(parsing.parse_code, field=h, max_length=MAX_POLICY_NUMBER)
        if key == "customer_code":
            return key, _bind(parsing.parse_code, field=h, max_length=MAX_CUSTOMER_CODE)
        if key == "branch_code":
            return "branch_id", self._branch_parser(h)
        if key == "agent_email":
            return "agent_id", self._agent_parser(h)
        if key == "premium_amount":
            return key, _bind(parsing.parse_money, field=h, positive=True, maximum=MAX_AMOUNT)
        if key == "sum_assured":
            return key, _bind(parsing.parse_money, field=h, positive=False, maximum=MAX_SUM_ASSURED)
        if key == "policy_type":
            return key, _bind(parsing.parse_choice, field=h, choices=self._policy_types)
        if kind is ColumnKind.TEXT or kind is ColumnKind.NAME or kind is ColumnKind.INTEGER:
            return key, _bind(parsing.parse_text, field=h, max_length=MAX_TEXT.get(key, 255))
        if kind is ColumnKind.EMAIL:
            return key, _bind(parsing.parse_email, field=h)
        if kind is ColumnKind.PHONE:
            return key, _bind(parsing.parse_phone, field=h, phones=self._phones)
        if kind is ColumnKind.DATE:  # a book repeats its dates: each distinct text is parsed once
            return key, _memo(_bind(parsing.parse_date, field=h), copy=False)
        if kind is ColumnKind.CHOICE and column.choices:
            return key, _bind(parsing.parse_choice, field=h, choices=parsing.choice_table(column.choices))
        if kind is ColumnKind.JSON:  # and its preferences: each row gets its own copy of the dict
            return key, _memo(_bind(parsing.parse_preferences, field=h), copy=True)
        raise ValueError(f"no cell parser for upload column {key} ({kind})")

    def _branch_parser(self, h: str) -> Parser:
        cache, branch_ids = self._branch_cache, self._branch_ids

        def branch_id(raw: object) -> int | None:
            if type(raw) is str and (hit := cache.get(raw)) is not None:
                return hit
            code = parsing.parse_code(raw, field=h, max_length=50)
            if code is None:
                return None
            found = branch_ids.get(code)
            if found is None:
                raise ValidationFailed.on(h, f"there is no branch with the code {parsing.shown(code)}")
            if type(raw) is str and len(cache) < _CACHE_LIMIT:
                cache[raw] = found
            return found

        return branch_id

    def _agent_parser(self, h: str) -> Parser:
        cache, agent_ids = self._agent_cache, self._agent_ids

        def agent_id(raw: object) -> int | None:
            if type(raw) is str and (hit := cache.get(raw)) is not None:
                return hit
            email = parsing.parse_email(raw, field=h)
            if email is None:
                return None
            found = agent_ids.get(email)
            if found is None:
                raise ValidationFailed.on(h, f"there is no user with the e-mail {parsing.shown(email)}")
            if type(raw) is str and len(cache) < _CACHE_LIMIT:
                cache[raw] = found
            return found

        return agent_id

    # --- one row ------------------------------------------------------------------------------------

    def validate(self, row_number: int, cells: Sequence[object]) -> BookRow | RowError | None:
        """The row as a BookRow, or a RowError with every problem found; None for an empty row (skip it).

        Cells beyond the header are ignored and a short row reads as padded with empty cells.
        """
        width = self._width
        row = cells
        if len(row) != width:
            row = [*row[:width], *([None] * (width - len(row)))]
        for raw in row:
            if raw is not None and (type(raw) is not str or raw.strip()):
                break
        else:
            return None

        values: dict[str, Any] = {}
        reasons: list[tuple[str, str]] = []
        failed: set[str] = set()
        for name, index, h, parse in self._fields:
            raw = row[index]
            if raw is None:
                continue
            try:
                value = parse(raw)
            except ValidationFailed as exc:
                reasons.extend((h, detail.message) for detail in exc.details)
                failed.add(name)
                continue
            if value is not None:
                values[name] = value

        hs = self._h
        get: Callable[[str], Any] = values.get
        first_name, last_name = get("first_name"), get("last_name")
        email, phone, born = get("email"), get("phone"), get("date_of_birth")
        policy_type, premium = get("policy_type"), get("premium_amount")
        start, end, renewal = get("start_date"), get("end_date"), get("renewal_date")
        if first_name is None or last_name is None or policy_type is None or premium is None or start is None \
                or end is None:
            for key, value in (("first_name", first_name), ("last_name", last_name), ("policy_type", policy_type),
                               ("premium_amount", premium), ("start_date", start), ("end_date", end)):
                if value is None and key not in failed:
                    reasons.append((hs[key], "is required"))
        if email is None and phone is None and "email" not in failed and "phone" not in failed:
            reasons.append(("", "needs an email or a phone number"))
        if born is not None:
            if born > self._today:
                reasons.append((hs["date_of_birth"], f"must not be in the future (got {born.isoformat()})"))
                failed.add("date_of_birth")
            elif born < OLDEST_BIRTH_DATE:
                reasons.append((hs["date_of_birth"], f"must not be before {OLDEST_BIRTH_DATE.isoformat()} "
                                                     f"(got {born.isoformat()})"))
                failed.add("date_of_birth")
        if start is not None and end is not None:
            try:
                renewal = self._term_rule(start, end, renewal, DEFAULT_GRACE_DAYS).renewal_date
            except ValidationFailed as exc:
                reasons.extend(self._term_reasons(exc))

        customer_code = get("customer_code")
        if customer_code is None and first_name is not None and last_name is not None \
                and (not failed or failed.isdisjoint(("customer_code", "email", "phone", "date_of_birth"))):
            customer_code = derive_customer_code(email, phone, first_name, last_name, born)
        policy_number = get("policy_number")
        if policy_number is None and "policy_number" not in failed and customer_code is not None \
                and policy_type is not None and start is not None:
            policy_number = derive_policy_number(customer_code, policy_type, start)
        digest = None
        if policy_number is not None:
            digest = _policy_digest(policy_number)
            if digest in self._seen:
                if self._has_policy_number and "policy_number" in values:
                    reasons.append((hs["policy_number"], "duplicates the policy number of an earlier row"))
                else:
                    reasons.append(("", f"duplicates the policy number of an earlier row ({policy_number}, derived "
                                        f"from the same customer, policy type and start date)"))

        if reasons:
            order = self._order  # in column order; problems of the whole row last
            reasons.sort(key=lambda reason: order.get(reason[0], width))
            return RowError(row_number=row_number, cells=self._cells(row), reasons=reasons)
        assert digest is not None and customer_code is not None and policy_number is not None
        self._seen.add(digest)
        address = None
        for key, part in _ADDRESS_PARTS:
            text = get(key)
            if text is not None:
                if address is None:
                    address = {}
                address[part] = text
        return BookRow(
            row_number=row_number, customer_code=customer_code, first_name=first_name, last_name=last_name,
            email=email, phone=phone, date_of_birth=born, kyc_status=get("kyc_status") or "pending",
            address=address, communication_preferences=get("communication_preferences"),
            policy_number=policy_number, policy_type=policy_type, premium_amount=premium,
            sum_assured=get("sum_assured"), start_date=start, end_date=end, renewal_date=renewal or end,
            policy_status=get("status") or "active", branch_id=get("branch_id"), agent_id=get("agent_id"),
            priority=get("priority"), notes=get("notes"))

    def _term_reasons(self, exc: ValidationFailed) -> list[tuple[str, str]]:
        names = self._term_fields
        found: list[tuple[str, str]] = []
        for detail in exc.details:
            message = detail.message
            for api_name, h in names.items():
                if h:
                    message = message.replace(api_name, h)
            found.append((names.get(detail.field, ""), message))
        return found

    def _cells(self, row: Sequence[object]) -> dict[str, Any]:
        """Header as written -> the raw cell, JSON-friendly; a repeated header keeps its first cell."""
        found: dict[str, Any] = {}
        for h, raw in zip(self._headers, row, strict=False):
            if h not in found:
                found[h] = parsing.json_friendly(raw)
        return found
