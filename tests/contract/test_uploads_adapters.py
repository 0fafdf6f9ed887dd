"""The uploads repository and the book writer, run against the in-memory and the PostgreSQL adapters."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import insert, text
from sqlalchemy.ext.asyncio import AsyncEngine

from adapters.memory.store import MemoryStore
from adapters.sqlalchemy.tables.identity import branches, users
from adapters.system.clock import FixedClock
from application.shared.pagination import PageRequest, SortKey
from application.shared.visibility import EVERYTHING, Visibility
from application.uploads.ports import BatchWritten, UploadFilters
from domain.identity.model import User, UserStatus
from domain.shared.errors import NotFound, ValidationFailed
from domain.uploads.model import BookRow, RowError, Upload, UploadStatus
from entrypoints.container import AppContainer
from tests.conftest import NOW
from tests.factories import new_customer, new_policy

TODAY = NOW.date()


# --- helpers ------------------------------------------------------------------------------------------

def _store(container: AppContainer) -> MemoryStore:
    store: MemoryStore = container.adapters.store()
    return store


def _engine(container: AppContainer) -> AsyncEngine:
    engine = container.adapters.engine()
    assert engine is not None
    return engine


def _is_sql(container: AppContainer) -> bool:
    return container.adapters.engine() is not None


async def _staff(container: AppContainer, user_branches: list[int | None], *,
                 inactive: tuple[int, ...] = ()) -> tuple[list[int], list[int]]:
    """Branches BR1, BR2 and one user per entry (an index into the branches, or None); real rows on both."""
    if not _is_sql(container):
        store = _store(container)
        branch_ids = [store.add_branch(f"br{n}") for n in (1, 2)]
        user_ids = []
        for n, b in enumerate(user_branches, start=1):
            user_id = store.next_value("users.id")
            store.tables.users[user_id] = User(
                id=user_id, email=f"Agent{n}@Example.com", password_hash="!", first_name=f"A{n}", last_name="T",
                role_id=0, branch_id=None if b is None else branch_ids[b],
                status=UserStatus.INACTIVE if n - 1 in inactive else UserStatus.ACTIVE)
            user_ids.append(user_id)
        return branch_ids, user_ids
    async with _engine(container).begin() as conn:
        branch_ids = [int(await conn.scalar(insert(branches).values(code=f"br{n}", name=f"Branch {n}")
                                            .returning(branches.c.id))) for n in (1, 2)]
        user_ids = [int(await conn.scalar(insert(users).values(
            email=f"Agent{n}@Example.com", password_hash="!", first_name=f"A{n}", last_name="T",
            branch_id=None if b is None else branch_ids[b],
            status="inactive" if n - 1 in inactive else "active").returning(users.c.id)))
            for n, b in enumerate(user_branches, start=1)]
    return branch_ids, user_ids


def _upload(**overrides: Any) -> Upload:
    values: dict[str, Any] = {"id": None, "filename": "uploads/2026/11/abc.xlsx", "original_filename": "book.xlsx",
                              "file_size": 2048, "file_type": "xlsx", "sha256": "a" * 64, "uploaded_by": None,
                              "total_records": 100}
    values.update(overrides)
    return Upload(**values)


async def _add(container: AppContainer, upload: Upload) -> Upload:
    async with container.adapters.uploads_uow() as uow:
        added = await uow.uploads.add(upload)
        await uow.commit()
    return added


async def _get(container: AppContainer, upload_id: int, visibility: Visibility = EVERYTHING) -> Upload | None:
    async with container.adapters.uploads_uow() as uow:
        found: Upload | None = await uow.uploads.get(upload_id, visibility)
        return found


def _row(n: int, **overrides: Any) -> BookRow:
    end = TODAY + timedelta(days=20 + n)
    values: dict[str, Any] = {
        "row_number": n + 1, "customer_code": f"C-{n:04d}", "first_name": f"First{n}", "last_name": "Rao",
        "email": f"c{n}@example.in", "phone": f"+9198765{n:05d}", "date_of_birth": date(1980, 1, 1) + timedelta(days=n),
        "kyc_status": "verified", "address": {"city": "Pune", "line1": f"{n} MG Road"},
        "communication_preferences": {"email": True, "whatsapp": False}, "policy_number": f"P-{n:04d}",
        "policy_type": "motor", "premium_amount": Decimal("12500.00"), "sum_assured": Decimal("500000.00"),
        "start_date": end - timedelta(days=365), "end_date": end, "renewal_date": end, "policy_status": "active",
        "branch_id": None, "agent_id": None}
    values.update(overrides)
    return BookRow(**values)


async def _write(container: AppContainer, upload: Upload, rows: list[BookRow], refused: list[RowError] | None = None,
                 *, checkpoint: int) -> BatchWritten:
    written: BatchWritten = await container.adapters.book_writer().write_batch(
        upload, rows, refused or [], checkpoint=checkpoint, today=TODAY, now=NOW)
    upload.processed_records = max(upload.processed_records, checkpoint)  # as the ingestion moves on
    return written


async def test_a_batch_that_does_not_start_at_the_stored_checkpoint_writes_nothing(container: AppContainer) -> None:
    upload = await _add(container, _upload())
    await _write(container, upload, [_row(1), _row(2)], checkpoint=3)
    stale = replace(upload, processed_records=0)  # another run that read from the start, batches cut differently
    assert _counts(await _write(container, stale, [_row(3)], checkpoint=4)) == (0, 0, 0, 0, 0)
    async with container.adapters.uploads_uow() as uow:
        stored = await uow.uploads.get(upload.id or 0, EVERYTHING)
    assert stored is not None and (stored.processed_records, stored.successful_records) == (3, 2)


def _counts(w: BatchWritten) -> tuple[int, int, int, int, int]:
    return (w.customers_inserted, w.customers_updated, w.policies_inserted, w.policies_updated, w.cases_opened)


async def _book(container: AppContainer) -> dict[str, Any]:
    """The customers, policies and cases as plain tuples, from either store."""
    if not _is_sql(container):
        t = _store(container).tables
        codes = {c.id: c.customer_code for c in t.customers.values()}
        numbers = {p.id: p.policy_number for p in t.policies.values()}
        return {
            "customers": {c.customer_code: (c.first_name, c.email, c.phone, str(c.kyc_status), c.address)
                          for c in t.customers.values()},
            "policies": {p.policy_number: (codes[p.customer_id], p.premium_amount, p.end_date, str(p.status),
                                           p.sum_assured) for p in t.policies.values()},
            "cases": sorted((numbers[c.policy_id], c.term_end_date, c.batch_id, str(c.priority), c.case_number, c.notes)
                            for c in t.cases.values()),
        }
    async with _engine(container).connect() as conn:
        customers = (await conn.execute(text(
            "SELECT customer_code, first_name, email, phone, kyc_status, address FROM customers"))).all()
        policies = (await conn.execute(text(
            "SELECT p.policy_number, c.customer_code, p.premium_amount, p.end_date, p.status, p.sum_assured "
            "FROM policies p JOIN customers c ON c.id = p.customer_id"))).all()
        cases = (await conn.execute(text(
            "SELECT p.policy_number, rc.term_end_date, rc.batch_id, rc.priority, rc.case_number, rc.notes "
            "FROM renewal_cases rc JOIN policies p ON p.id = rc.policy_id"))).all()
    return {"customers": {r[0]: tuple(r[1:]) for r in customers},
            "policies": {r[0]: tuple(r[1:]) for r in policies},
            "cases": sorted(tuple(r) for r in cases)}


# --- the repository -----------------------------------------------------------------------------------

async def test_upload_is_added_with_its_batch_and_read_back(container: AppContainer) -> None:
    _, (agent,) = await _staff(container, [0])
    added = await _add(container, _upload(uploaded_by=agent, description="November book"))
    assert added.id is not None and added.batch_id is not None and added.created_at == NOW
    found = await _get(container, added.id)
    assert found is not None
    assert (found.original_filename, found.file_size, found.sha256, found.status, found.batch_id) == (
        "book.xlsx", 2048, "a" * 64, UploadStatus.PROCESSING, added.batch_id)
    assert (found.processed_records, found.successful_records, found.failed_records, found.total_records) == (
        0, 0, 0, 100)
    assert (found.warnings, found.error, found.cancel_requested, found.description) == ([], None, False,
                                                                                       "November book")
    assert found.uploader_branch_id is not None and found.uploader_branch_id == added.uploader_branch_id
    assert await _get(container, added.id + 100) is None
    if _is_sql(container):
        async with _engine(container).connect() as conn:
            batch = (await conn.execute(text(
                "SELECT upload_id, file_name, total_records, uploaded_by FROM upload_batches WHERE id = :id"),
                {"id": added.batch_id})).one()
        assert tuple(batch) == (added.id, "book.xlsx", 100, agent)


async def test_save_writes_the_state_and_get_for_update_reads_it(container: AppContainer,
                                                                 clock: FixedClock) -> None:
    added = await _add(container, _upload())
    assert added.id is not None
    clock.advance(timedelta(minutes=5))
    async with container.adapters.uploads_uow() as uow:
        upload = await uow.uploads.get_for_update(added.id)
        assert upload is not None
        upload.processing_started_at = NOW
        upload.warnings = ["unknown column 'Colour' ignored"]
        upload.request_cancel()
        upload.successful_records, upload.failed_records, upload.processed_records = 7, 2, 10
        upload.finish(clock.now())
        await uow.uploads.save(upload)
        await uow.commit()
    found = await _get(container, added.id)
    assert found is not None
    assert (found.status, found.cancel_requested, found.warnings) == (
        UploadStatus.CANCELLED, True, ["unknown column 'Colour' ignored"])
    assert (found.successful_records, found.failed_records, found.processed_records) == (7, 2, 10)
    assert (found.processing_started_at, found.processing_completed_at) == (NOW, clock.now())
    assert found.updated_at == clock.now() and found.created_at == NOW
    failed = await _add(container, _upload(sha256="b" * 64))
    async with container.adapters.uploads_uow() as uow:
        upload = await uow.uploads.get_for_update(failed.id or 0)
        assert upload is not None
        upload.fail("reading stopped at row 12: bad zip", clock.now())
        await uow.uploads.save(upload)
        # not committed
    assert (await _get(container, failed.id or 0)).status is UploadStatus.PROCESSING  # type: ignore[union-attr]
    async with container.adapters.uploads_uow() as uow:
        upload = await uow.uploads.get_for_update(failed.id or 0)
        assert upload is not None
        upload.fail("reading stopped at row 12: bad zip", clock.now())
        await uow.uploads.save(upload)
        await uow.commit()
    found = await _get(container, failed.id or 0)
    assert found is not None and (found.status, found.error) == (UploadStatus.FAILED,
                                                                 "reading stopped at row 12: bad zip")
    with pytest.raises(NotFound):
        async with container.adapters.uploads_uow() as uow:
            await uow.uploads.save(replace(found, id=9999))


async def test_visibility_is_own_branch_or_all(container: AppContainer) -> None:
    # A and B in branch 1, C in branch 2, D in no branch
    _, (a, b, c, d) = await _staff(container, [0, 0, 1, None])
    ids = {who: (await _add(container, _upload(uploaded_by=who, sha256=str(who) * 64))).id for who in (a, b, c, d)}
    branch1 = (await _get(container, ids[a] or 0, EVERYTHING)).uploader_branch_id  # type: ignore[union-attr]

    async def visible(visibility: Visibility) -> set[int]:
        seen = {who for who, upload_id in ids.items() if await _get(container, upload_id or 0, visibility)}
        async with container.adapters.uploads_uow() as uow:
            listed = await uow.uploads.list(UploadFilters(), PageRequest(limit=50), visibility)
        assert {u.uploaded_by for u in listed.items} == seen and listed.total == len(seen)
        return seen

    assert await visible(EVERYTHING) == {a, b, c, d}
    assert await visible(Visibility(reach="own", user_id=a, branch_id=branch1)) == {a}
    assert await visible(Visibility(reach="branch", user_id=a, branch_id=branch1)) == {a, b}
    assert await visible(Visibility(reach="branch", user_id=d, branch_id=None)) == {d}


async def test_list_filters_sorts_and_pages(container: AppContainer, clock: FixedClock) -> None:
    _, (a, b) = await _staff(container, [0, 1])
    made = []
    for n in range(5):
        made.append(await _add(container, _upload(uploaded_by=a if n % 2 == 0 else b, sha256=f"{n}" * 64,
                                                  original_filename=f"{'edcba'[n]}-book.csv", file_type="csv")))
        clock.advance(timedelta(days=1))
    async with container.adapters.uploads_uow() as uow:
        done = await uow.uploads.get_for_update(made[1].id or 0)
        assert done is not None
        done.finish(clock.now())
        await uow.uploads.save(done)
        await uow.commit()
    async with container.adapters.uploads_uow() as uow:
        newest = await uow.uploads.list(UploadFilters(), PageRequest(limit=2), EVERYTHING)
        assert (newest.total, [u.id for u in newest.items]) == (5, [made[4].id, made[3].id])
        second = await uow.uploads.list(UploadFilters(), PageRequest(page=2, limit=2), EVERYTHING)
        assert [u.id for u in second.items] == [made[2].id, made[1].id]
        by_name = await uow.uploads.list(UploadFilters(), PageRequest(sort=(SortKey("originalFilename"),)),
                                         EVERYTHING)
        assert [u.original_filename for u in by_name.items] == [f"{x}-book.csv" for x in "abcde"]
        by_status = await uow.uploads.list(UploadFilters(), PageRequest(sort=(SortKey("status"),)), EVERYTHING)
        assert by_status.items[0].id == made[1].id
        completed = await uow.uploads.list(UploadFilters(status=("completed",)), PageRequest(), EVERYTHING)
        assert [u.id for u in completed.items] == [made[1].id]
        mine = await uow.uploads.list(UploadFilters(uploaded_by=(b,)), PageRequest(), EVERYTHING)
        assert {u.id for u in mine.items} == {made[1].id, made[3].id}
        days = await uow.uploads.list(UploadFilters(created_from=TODAY + timedelta(days=1),
                                                    created_to=TODAY + timedelta(days=2)), PageRequest(), EVERYTHING)
        assert {u.id for u in days.items} == {made[1].id, made[2].id}
        with pytest.raises(ValidationFailed):
            await uow.uploads.list(UploadFilters(), PageRequest(sort=(SortKey("fileSize"),)), EVERYTHING)


async def test_find_by_sha256_is_the_latest_upload_that_did_not_fail(container: AppContainer,
                                                                     clock: FixedClock) -> None:
    first = await _add(container, _upload(sha256="f" * 64))
    clock.advance(timedelta(hours=1))
    second = await _add(container, _upload(sha256="f" * 64))
    async with container.adapters.uploads_uow() as uow:
        found = await uow.uploads.find_by_sha256("f" * 64)
        assert found is not None and found.id == second.id
        upload = await uow.uploads.get_for_update(second.id or 0)
        assert upload is not None
        upload.fail("corrupt", clock.now())
        await uow.uploads.save(upload)
        await uow.commit()
    async with container.adapters.uploads_uow() as uow:
        found = await uow.uploads.find_by_sha256("f" * 64)
        assert found is not None and found.id == first.id
        assert await uow.uploads.find_by_sha256("0" * 64) is None


async def test_stalled_lists_processing_uploads_untouched_since(container: AppContainer, clock: FixedClock) -> None:
    old = await _add(container, _upload(sha256="1" * 64))
    finished = await _add(container, _upload(sha256="2" * 64))
    async with container.adapters.uploads_uow() as uow:
        upload = await uow.uploads.get_for_update(finished.id or 0)
        assert upload is not None
        upload.finish(clock.now())
        await uow.uploads.save(upload)
        await uow.commit()
    clock.advance(timedelta(minutes=10))
    fresh = await _add(container, _upload(sha256="3" * 64))
    async with container.adapters.uploads_uow() as uow:
        assert await uow.uploads.stalled(NOW + timedelta(minutes=5)) == [old.id]
        assert await uow.uploads.stalled(NOW + timedelta(minutes=11)) == [old.id, fresh.id]
    # a written batch touches the upload: it is not stalled any more
    await container.adapters.book_writer().write_batch(old, [_row(1)], [], checkpoint=2, today=TODAY,
                                                       now=NOW + timedelta(minutes=10))  # starts at 0
    async with container.adapters.uploads_uow() as uow:
        assert await uow.uploads.stalled(NOW + timedelta(minutes=5)) == []


# --- the book writer ----------------------------------------------------------------------------------

async def test_a_batch_of_new_rows_writes_customers_policies_cases_and_the_checkpoint(
        container: AppContainer) -> None:
    upload = await _add(container, _upload())
    rows = [_row(n) for n in range(1, 6)]
    written = await _write(container, upload, rows, checkpoint=6)
    assert _counts(written) == (5, 0, 5, 0, 5)
    book = await _book(container)
    assert set(book["customers"]) == {f"C-{n:04d}" for n in range(1, 6)}
    assert book["customers"]["C-0001"] == ("First1", "c1@example.in", "+919876500001", "verified",
                                           {"city": "Pune", "line1": "1 MG Road"})
    assert book["policies"]["P-0003"] == ("C-0003", Decimal("12500.00"), TODAY + timedelta(days=23), "active",
                                          Decimal("500000.00"))
    assert [c[0] for c in book["cases"]] == [f"P-{n:04d}" for n in range(1, 6)]
    assert {c[2] for c in book["cases"]} == {upload.batch_id}
    assert sorted(c[4] for c in book["cases"]) == [f"RC-{TODAY.year}-{n:06d}" for n in range(1, 6)]
    assert {c[3] for c in book["cases"]} == {"medium"}  # 21 to 25 days out, a middling premium
    found = await _get(container, upload.id or 0)
    assert found is not None
    assert (found.processed_records, found.successful_records, found.failed_records) == (6, 5, 0)
    assert found.updated_at == NOW
    if _is_sql(container):
        async with _engine(container).connect() as conn:
            counts = (await conn.execute(text(
                "SELECT processed_records, successful_records, failed_records FROM upload_batches WHERE id = :id"),
                {"id": upload.batch_id})).one()
        assert tuple(counts) == (5, 5, 0)


async def test_a_replayed_batch_writes_nothing(container: AppContainer) -> None:
    upload = await _add(container, _upload())
    rows = [_row(n) for n in range(1, 4)]
    refused = [RowError(row_number=5, cells={"Email": "x"}, reasons=[("Email", "is not an email")])]
    assert _counts(await _write(container, upload, rows, refused, checkpoint=5)) == (3, 0, 3, 0, 3)
    before = await _book(container)
    changed = [replace(r, premium_amount=Decimal("99999.00")) for r in rows]
    assert _counts(await _write(container, upload, changed, refused, checkpoint=5)) == (0, 0, 0, 0, 0)
    assert _counts(await _write(container, upload, changed, refused, checkpoint=4)) == (0, 0, 0, 0, 0)
    assert await _book(container) == before
    found = await _get(container, upload.id or 0)
    assert found is not None
    assert (found.processed_records, found.successful_records, found.failed_records) == (5, 3, 1)
    async with container.adapters.uploads_uow() as uow:
        assert [e.row_number for e in await uow.uploads.errors(upload.id or 0)] == [5]
    with pytest.raises(NotFound):
        await _write(container, replace(upload, id=(upload.id or 0) + 100), rows, checkpoint=9)


async def test_unchanged_rows_write_nothing_and_changed_ones_update_only_their_policy(
        container: AppContainer) -> None:
    upload = await _add(container, _upload())
    rows = [_row(n) for n in range(1, 6)]
    await _write(container, upload, rows, checkpoint=6)
    again = await _add(container, _upload(sha256="c" * 64))
    second = [replace(r, premium_amount=Decimal("13000.00"), row_number=r.row_number) if n < 3 else r
              for n, r in enumerate(rows)]
    written = await _write(container, again, second, checkpoint=6)
    assert _counts(written) == (0, 0, 0, 3, 0)
    book = await _book(container)
    assert [book["policies"][f"P-{n:04d}"][1] for n in range(1, 6)] == [Decimal("13000.00")] * 3 + [
        Decimal("12500.00")] * 2
    assert len(book["cases"]) == 5 and {c[2] for c in book["cases"]} == {upload.batch_id}
    assert _counts(await _write(container, await _add(container, _upload(sha256="d" * 64)), second,
                                checkpoint=6)) == (0, 0, 0, 0, 0)


async def test_rows_of_one_customer_make_one_customer_and_the_last_row_wins(container: AppContainer) -> None:
    upload = await _add(container, _upload())
    rows = [_row(1), _row(2, customer_code="C-0001", first_name="Later", email=None)]
    written = await _write(container, upload, rows, checkpoint=3)
    assert _counts(written) == (1, 0, 2, 0, 2)
    book = await _book(container)
    assert book["customers"] == {"C-0001": ("Later", None, "+919876500002", "verified",
                                            {"city": "Pune", "line1": "2 MG Road"})}
    assert {p[0] for p in book["policies"].values()} == {"C-0001"}
    # the same policy twice in a batch: one policy, the later row's values
    twice = [_row(3), _row(3, row_number=9, premium_amount=Decimal("777.00"))]
    assert _counts(await _write(container, upload, twice, checkpoint=9)) == (1, 0, 1, 0, 1)
    assert (await _book(container))["policies"]["P-0003"][1] == Decimal("777.00")


async def test_blank_cells_and_a_pending_kyc_keep_what_is_known(container: AppContainer) -> None:
    upload = await _add(container, _upload())
    await _write(container, upload, [_row(1)], checkpoint=2)
    blank = _row(1, email=None, phone=None, address=None, kyc_status="pending", sum_assured=None,
                 communication_preferences=None, date_of_birth=None)
    assert _counts(await _write(container, upload, [blank], checkpoint=3)) == (0, 0, 0, 0, 0)
    renamed = replace(blank, last_name="Rao-Iyer", kyc_status="rejected")
    assert _counts(await _write(container, upload, [renamed], checkpoint=4)) == (0, 1, 0, 0, 0)
    book = await _book(container)
    assert book["customers"]["C-0001"] == ("First1", "c1@example.in", "+919876500001", "rejected",
                                           {"city": "Pune", "line1": "1 MG Road"})
    assert book["policies"]["P-0001"][4] == Decimal("500000.00")


async def test_cases_open_for_active_policies_with_the_stated_or_computed_priority(container: AppContainer) -> None:
    upload = await _add(container, _upload())
    rows = [
        _row(1, policy_status="lapsed"),
        _row(2, end_date=TODAY + timedelta(days=3), renewal_date=TODAY + timedelta(days=3),
             premium_amount=Decimal("60000.00")),  # urgent
        _row(3, end_date=TODAY + timedelta(days=300), renewal_date=TODAY + timedelta(days=300),
             premium_amount=Decimal("1000.00")),  # low, far outside the renewal window: a case all the same
        _row(4, priority="high", notes="call after 6pm"),
    ]
    written = await _write(container, upload, rows, checkpoint=5)
    assert _counts(written) == (4, 0, 4, 0, 3)
    cases = {c[0]: c for c in (await _book(container))["cases"]}
    assert set(cases) == {"P-0002", "P-0003", "P-0004"}
    assert (cases["P-0002"][3], cases["P-0003"][3], cases["P-0004"][3]) == ("urgent", "low", "high")
    assert cases["P-0004"][5] == "call after 6pm" and cases["P-0003"][1] == TODAY + timedelta(days=300)
    # a new term of a policy (end date moved on) opens a case for that term; the old one stays
    renewed = _row(2, end_date=TODAY + timedelta(days=368), renewal_date=TODAY + timedelta(days=368),
                   start_date=TODAY + timedelta(days=3), premium_amount=Decimal("60000.00"), row_number=7)
    assert _counts(await _write(container, upload, [renewed], checkpoint=7)) == (0, 0, 0, 1, 1)
    terms = [c[1] for c in (await _book(container))["cases"] if c[0] == "P-0002"]
    assert terms == [TODAY + timedelta(days=3), TODAY + timedelta(days=368)]


async def test_a_case_the_daily_job_opened_is_reused_and_gets_the_batch(container: AppContainer) -> None:
    customer = await container.application.customers().register(new_customer())
    policy = await container.application.policies().issue(new_policy(customer.id, renewal_in_days=10))
    assert await container.application.cases().open_due_cases() == 1
    upload = await _add(container, _upload())
    row = _row(1, customer_code=customer.customer_code, first_name="Asha", last_name="Rao",
               policy_number=policy.policy_number, start_date=policy.start_date, end_date=policy.end_date,
               renewal_date=policy.renewal_date, premium_amount=Decimal("12500.00"))
    written = await _write(container, upload, [row, _row(2)], checkpoint=3)
    assert (written.cases_opened, written.policies_inserted, written.customers_inserted) == (1, 1, 1)
    cases = {c[0]: c for c in (await _book(container))["cases"]}
    assert cases[policy.policy_number][2] == upload.batch_id
    assert cases[policy.policy_number][4] == f"RC-{TODAY.year}-000001"
    assert cases["P-0002"][4] == f"RC-{TODAY.year}-000002"  # no number was spent on the reused case
    # a case already linked to a batch keeps it
    later = await _add(container, _upload(sha256="e" * 64))
    assert (await _write(container, later, [row], checkpoint=2)).cases_opened == 0
    assert {c[0]: c for c in (await _book(container))["cases"]}[policy.policy_number][2] == upload.batch_id


async def test_refused_rows_are_kept_once_and_read_in_row_order(container: AppContainer) -> None:
    upload = await _add(container, _upload())
    refused = [
        RowError(row_number=7, cells={"Email": "nope", "Start Date": date(2026, 1, 2), "Premium": Decimal("1.5")},
                 reasons=[("Email", "is not an email"), ("", "the row has no policy type")]),
        RowError(row_number=3, cells={"Email": None}, reasons=[("First name", "is required")]),
    ]
    written = await _write(container, upload, [_row(1)], refused, checkpoint=7)
    assert written.policies_inserted == 1
    more = [RowError(row_number=9, cells={}, reasons=[("Phone", "is not a phone number")])]
    await _write(container, upload, [], more, checkpoint=9)
    found = await _get(container, upload.id or 0)
    assert found is not None
    assert (found.processed_records, found.successful_records, found.failed_records) == (9, 1, 3)
    async with container.adapters.uploads_uow() as uow:
        errors = await uow.uploads.errors(upload.id or 0)
        assert [e.row_number for e in errors] == [3, 7, 9]
        assert errors[1] == RowError(
            row_number=7, cells={"Email": "nope", "Start Date": "2026-01-02", "Premium": "1.5"},
            reasons=[("Email", "is not an email"), ("", "the row has no policy type")])
        paged = await uow.uploads.errors(upload.id or 0, after_row=3, limit=1)
        assert [e.row_number for e in paged] == [7]


async def test_an_empty_last_batch_moves_the_checkpoint(container: AppContainer) -> None:
    upload = await _add(container, _upload())
    assert _counts(await _write(container, upload, [], checkpoint=12)) == (0, 0, 0, 0, 0)
    found = await _get(container, upload.id or 0)
    assert found is not None and found.processed_records == 12


async def test_reference_data_maps_branch_codes_and_active_agents(container: AppContainer) -> None:
    (branch1, branch2), (a, _b) = await _staff(container, [0, None], inactive=(1,))
    data = await container.adapters.book_writer().reference_data()
    assert data.branch_ids == {"BR1": branch1, "BR2": branch2}
    assert data.agent_ids == {"agent1@example.com": a}
