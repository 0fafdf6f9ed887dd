"""In-memory twins of the uploads adapters: the upload records, their unit of work, and the book writer.

The writer has the SQL writer's semantics (see adapters/sqlalchemy/book_writer.py): customers upserted by
code and policies by number, the last row of a key winning, an existing row changed only when a value
differs (blank optional cells and a `pending` KYC status keep what is stored); an open case for every active
staged policy's current term unless one exists (then linked to the batch when it had none); refused rows
kept once per row number; counts and the checkpoint moved together, a batch at or below the checkpoint
written as nothing.
"""

from __future__ import annotations

import builtins
import copy
import json
from collections.abc import Sequence
from datetime import date, datetime, time, timedelta, tzinfo
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from adapters.memory.store import MemoryStore
from adapters.memory.unit_of_work import InMemoryUnitOfWorkBase
from application.shared.events import EventRouter
from application.shared.pagination import Page, PageRequest, SortKey
from application.shared.visibility import Visibility
from application.uploads.ports import BatchWritten, ReferenceData, UploadFilters
from domain.identity.model import UserStatus
from domain.policies import rules
from domain.policies.model import CasePriority, Customer, KycStatus, Policy, PolicyStatus, RenewalCase
from domain.shared.errors import NotFound, ValidationFailed
from domain.uploads.model import BookRow, RowError, Upload, UploadStatus

__all__ = ["InMemoryBookWriter", "InMemoryUploadRepository", "InMemoryUploadsUnitOfWork"]

_SORT = ("createdAt", "originalFilename", "status")
_CENT = Decimal("0.01")
_ZERO = BatchWritten(customers_inserted=0, customers_updated=0, policies_inserted=0, policies_updated=0,
                     cases_opened=0)


def _json_default(value: object) -> Any:
    if isinstance(value, datetime | date | time):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    return str(value)


def _as_stored(error: RowError) -> RowError:
    """The refused row as the JSONB columns give it back (dates and decimals become text)."""
    cells = json.loads(json.dumps(error.cells, default=_json_default))
    return RowError(row_number=error.row_number, cells=cells,
                    reasons=[(str(column), str(message)) for column, message in error.reasons])


def _uploader_branch(store: MemoryStore, upload: Upload) -> int | None:
    """As the SQL join: the uploader's branch (the value given at `add` when the user is unknown here)."""
    user = store.tables.users.get(upload.uploaded_by) if upload.uploaded_by is not None else None
    return user.branch_id if user is not None else upload.uploader_branch_id


def _visible_to(store: MemoryStore, upload: Upload, visibility: Visibility) -> bool:
    if visibility.reach == "all":
        return True
    if upload.uploaded_by is not None and upload.uploaded_by == visibility.user_id:
        return True
    return (visibility.reach == "branch" and visibility.branch_id is not None
            and _uploader_branch(store, upload) == visibility.branch_id)


class InMemoryUploadRepository:
    def __init__(self, store: MemoryStore, at: datetime, zone: tzinfo) -> None:
        self._store = store
        self._at = at  # one timestamp per unit of work, as the SQL unit's clock
        self._zone = zone
        self.staged: dict[int, Upload] = {}

    def _find(self, upload_id: int) -> Upload | None:
        return self.staged.get(upload_id) or self._store.tables.uploads.get(upload_id)

    def _out(self, upload: Upload) -> Upload:
        found = copy.deepcopy(upload)
        found.uploader_branch_id = _uploader_branch(self._store, upload)
        return found

    def _all(self) -> builtins.list[Upload]:
        merged = {**self._store.tables.uploads, **self.staged}
        return [merged[k] for k in sorted(merged)]

    async def add(self, upload: Upload) -> Upload:
        upload.id = self._store.next_value("file_uploads.id")
        upload.batch_id = self._store.next_value("upload_batches.id")
        upload.created_at = upload.created_at or self._at
        upload.updated_at = self._at
        self.staged[upload.id] = copy.deepcopy(upload)
        upload.uploader_branch_id = _uploader_branch(self._store, upload)
        return upload

    async def get(self, upload_id: int, visibility: Visibility) -> Upload | None:
        found = self._find(upload_id)
        if found is None or not _visible_to(self._store, found, visibility):
            return None
        return self._out(found)

    async def get_for_update(self, upload_id: int) -> Upload | None:
        found = self._find(upload_id)
        return None if found is None else self._out(found)

    async def save(self, upload: Upload) -> None:
        if upload.id is None or self._find(upload.id) is None:
            raise NotFound("upload", upload.id)
        upload.updated_at = self._at
        self.staged[upload.id] = copy.deepcopy(upload)

    async def find_by_sha256(self, sha256: str) -> Upload | None:
        found = [u for u in self._all() if u.sha256 == sha256 and u.status is not UploadStatus.FAILED]
        if not found:
            return None
        return self._out(max(found, key=lambda u: (u.created_at or datetime.min.replace(tzinfo=self._zone), u.id)))

    async def list(self, filters: UploadFilters, page: PageRequest, visibility: Visibility) -> Page[Upload]:
        for key in page.sort:
            if key.field not in _SORT:
                raise ValidationFailed.on("sort", f"cannot sort by '{key.field}'; allowed: {', '.join(_SORT)}")
        start = (datetime.combine(filters.created_from, time.min, tzinfo=self._zone)
                 if filters.created_from is not None else None)
        end = (datetime.combine(filters.created_to + timedelta(days=1), time.min, tzinfo=self._zone)
               if filters.created_to is not None else None)
        found = [u for u in self._all()
                 if _visible_to(self._store, u, visibility)
                 and (not filters.status or u.status.value in filters.status)
                 and (not filters.uploaded_by or u.uploaded_by in filters.uploaded_by)
                 and (start is None or (u.created_at is not None and u.created_at >= start))
                 and (end is None or (u.created_at is not None and u.created_at < end))]
        sort = page.sort or (SortKey("createdAt", descending=True),)
        found.sort(key=lambda u: u.id or 0, reverse=sort[-1].descending)
        for key in reversed(sort):
            found.sort(key=lambda u, f=key.field: _sort_value(u, f), reverse=key.descending)  # type: ignore[misc]
        items = [self._out(u) for u in found[page.offset:page.offset + page.limit]]
        return Page(items=items, page=page.page, limit=page.limit, total=len(found))

    async def stalled(self, updated_before: datetime) -> builtins.list[int]:
        found = [u for u in self._all() if u.status is UploadStatus.PROCESSING
                 and u.updated_at is not None and u.updated_at < updated_before]
        return [u.id for u in sorted(found, key=lambda u: (u.updated_at, u.id)) if u.id is not None]

    async def errors(self, upload_id: int, *, after_row: int = 0, limit: int = 1000) -> builtins.list[RowError]:
        rows = self._store.tables.row_errors.get(upload_id, {})
        return [rows[n] for n in sorted(rows) if n > after_row][:limit]


def _sort_value(upload: Upload, field: str) -> Any:
    if field == "createdAt":
        return upload.created_at
    if field == "originalFilename":
        return upload.original_filename
    return upload.status.value


class InMemoryUploadsUnitOfWork(InMemoryUnitOfWorkBase):
    """Staged upload writes, jobs and the tracked aggregates' events, applied on commit, dropped otherwise."""

    uploads: InMemoryUploadRepository

    def __init__(self, store: MemoryStore, router: EventRouter, business_timezone: str = "UTC") -> None:
        super().__init__(store, router)
        self._zone = ZoneInfo(business_timezone)

    def _open(self) -> None:
        self.uploads = InMemoryUploadRepository(self._store, self._store.now(), self._zone)

    def _apply(self, now: datetime) -> None:
        for upload_id, upload in self.uploads.staged.items():
            self._store.tables.uploads[upload_id] = copy.deepcopy(upload)

    def _clear_staged(self) -> None:
        self.uploads.staged = {}


def _last_by(rows: Sequence[BookRow], key: str) -> dict[str, BookRow]:
    """The last row (by row number) of each key, ordered by key as the SQL `DISTINCT ON` does."""
    last: dict[str, BookRow] = {}
    for row in sorted(rows, key=lambda r: r.row_number):
        last[getattr(row, key)] = row
    return {k: last[k] for k in sorted(last)}


def _money(value: Decimal | None) -> Decimal | None:
    return None if value is None else Decimal(value).quantize(_CENT)


def _customer_values(row: BookRow, current: Customer | None) -> dict[str, Any]:
    def keep(new: Any, name: str) -> Any:
        return getattr(current, name) if new is None and current is not None else new

    kyc = KycStatus(row.kyc_status)
    if current is not None and kyc is KycStatus.PENDING:
        kyc = current.kyc_status
    return {"first_name": row.first_name, "last_name": row.last_name, "email": keep(row.email, "email"),
            "phone": keep(row.phone, "phone"), "date_of_birth": keep(row.date_of_birth, "date_of_birth"),
            "kyc_status": kyc, "address": copy.deepcopy(keep(row.address, "address")),
            "communication_preferences": copy.deepcopy(
                keep(row.communication_preferences, "communication_preferences"))}


def _policy_values(row: BookRow, customer_id: int, current: Policy | None) -> dict[str, Any]:
    def keep(new: Any, name: str) -> Any:
        return getattr(current, name) if new is None and current is not None else new

    return {"customer_id": customer_id, "policy_type": row.policy_type,
            "premium_amount": _money(row.premium_amount), "sum_assured": keep(_money(row.sum_assured), "sum_assured"),
            "start_date": row.start_date, "end_date": row.end_date, "status": PolicyStatus(row.policy_status),
            "renewal_date": row.renewal_date, "agent_id": keep(row.agent_id, "agent_id"),
            "branch_id": keep(row.branch_id, "branch_id")}


def _update(current: Any, values: dict[str, Any], now: datetime) -> bool:
    """Write the values that differ onto `current` (and its updated_at); whether anything changed."""
    changes = _changes(current, values)
    for name, value in changes.items():
        setattr(current, name, value)
    if changes:
        current.updated_at = now
    return bool(changes)


def _changes(entity: object, values: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in values.items() if getattr(entity, k) != v}


class InMemoryBookWriter:
    """`InMemoryBookWriter(store)`: writes Customer, Policy and RenewalCase rows into the store's tables."""

    def __init__(self, store: MemoryStore) -> None:
        self._store = store

    async def write_batch(self, upload: Upload, rows: Sequence[BookRow], refused: Sequence[RowError], *,
                          checkpoint: int, today: date, now: datetime) -> BatchWritten:
        if upload.id is None:
            raise ValueError("the upload has no id; add it first")
        tables = self._store.tables
        stored = tables.uploads.get(upload.id)
        if stored is None:
            raise NotFound("upload", upload.id)
        if stored.processed_records != upload.processed_records or stored.processed_records >= checkpoint:
            return _ZERO  # committed by another run (the batch does not start where the upload stands)
        for row in rows:  # whatever could raise, before anything changes: all or nothing
            KycStatus(row.kyc_status), PolicyStatus(row.policy_status)
            if row.priority:
                CasePriority(row.priority)
        errors = [_as_stored(e) for e in refused]
        customers = self._upsert_customers(rows, now)
        policies = self._upsert_policies(rows, now)
        opened = self._open_cases(rows, stored.batch_id, today, now)
        kept = tables.row_errors.setdefault(upload.id, {})
        for error in errors:
            kept.setdefault(error.row_number, error)
        stored.processed_records = checkpoint
        stored.successful_records += len(rows)
        stored.failed_records += len(refused)
        stored.updated_at = now
        return BatchWritten(customers_inserted=customers[0], customers_updated=customers[1],
                            policies_inserted=policies[0], policies_updated=policies[1], cases_opened=opened)

    def _upsert_customers(self, rows: Sequence[BookRow], now: datetime) -> tuple[int, int]:
        tables = self._store.tables
        by_code = {c.customer_code: c for c in tables.customers.values()}
        inserted = updated = 0
        for code, row in _last_by(rows, "customer_code").items():
            current = by_code.get(code)
            values = _customer_values(row, current)
            if current is None:
                customer = Customer(customer_code=code, **values, id=self._store.next_value("customers.id"),
                                    created_at=now, updated_at=now)
                tables.customers[customer.id] = customer  # type: ignore[index]
                inserted += 1
            elif _update(current, values, now):
                updated += 1
        return inserted, updated

    def _upsert_policies(self, rows: Sequence[BookRow], now: datetime) -> tuple[int, int]:
        tables = self._store.tables
        customer_ids = {c.customer_code: c.id for c in tables.customers.values()}
        by_number = {p.policy_number: p for p in tables.policies.values()}
        inserted = updated = 0
        for number, row in _last_by(rows, "policy_number").items():
            customer_id = customer_ids[row.customer_code]
            assert customer_id is not None
            current = by_number.get(number)
            values = _policy_values(row, customer_id, current)
            if current is None:
                policy = Policy(policy_number=number, **values, id=self._store.next_value("policies.id"),
                                created_at=now, updated_at=now)
                tables.policies[policy.id] = policy  # type: ignore[index]
                inserted += 1
            elif _update(current, values, now):
                updated += 1
        return inserted, updated

    def _open_cases(self, rows: Sequence[BookRow], batch_id: int | None, today: date, now: datetime) -> int:
        tables = self._store.tables
        policies_by_number = {p.policy_number: p for p in tables.policies.values()}
        cases_by_term = {(c.policy_id, c.term_end_date): c for c in tables.cases.values()}
        terms = sorted(_last_by(rows, "policy_number").values(), key=lambda r: r.row_number)
        opened = 0
        for row in terms:
            policy = policies_by_number[row.policy_number]
            if policy.status is not PolicyStatus.ACTIVE:
                continue
            assert policy.id is not None
            existing = cases_by_term.get((policy.id, policy.end_date))
            if existing is not None:
                if existing.batch_id is None:
                    existing.batch_id, existing.updated_at = batch_id, now
                continue
            number = rules.format_case_number(today.year, self._store.next_value("case_number"))
            priority = (CasePriority(row.priority) if row.priority
                        else rules.case_priority(policy.premium_amount, policy.renewal_date, today))
            case = RenewalCase(case_number=number, policy_id=policy.id, term_end_date=policy.end_date,
                               renewal_amount=policy.premium_amount, priority=priority, batch_id=batch_id,
                               notes=row.notes, id=self._store.next_value("renewal_cases.id"), created_at=now,
                               updated_at=now)
            tables.cases[case.id] = case  # type: ignore[index]
            cases_by_term[(policy.id, policy.end_date)] = case
            opened += 1
        return opened

    async def reference_data(self) -> ReferenceData:
        tables = self._store.tables
        return ReferenceData(
            branch_ids={code.upper(): branch_id for branch_id, code in tables.branches.items()},
            agent_ids={user.email.lower(): user.id for user in tables.users.values()
                       if user.id is not None and user.status is UserStatus.ACTIVE})
