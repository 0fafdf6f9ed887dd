"""A small renewal book with known figures, built the same way on the SQL and the in-memory containers.

Today is 2026-11-28 (a Saturday: the week runs 23 to 29 November). Branches B1, B2; agents A (B1) and B (B2);
manager M (B1). Cases (due = term end, days from today), amounts in thousands:

case type    branch due  amt status           assigned esc  flags payments (collected)
c1   motor   B1     +1   1   new              A                   -
c2   motor   B2     +5   2   contacted        A                   -
c3   health  B1     -3   3   renewed          A                   paid 3 whatsapp (3)
c4   health  B2     -10  4   lapsed           B                   -
c5   life    B2     +2   5   payment_pending  B              yes  partially_paid 2.5 sms (2.5)
c6   life    -      +20  6   lost             -                   -
c7   motor   B2     -20  7   renewed          B        A          paid 7 email, 0.5 refunded (6.5); failed sms
c8   health  B1     +40  8   cancelled        -                   - (outside the default range)
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import insert, update

from adapters.memory.store import MemoryStore
from adapters.sqlalchemy.tables.payments import payments
from adapters.sqlalchemy.tables.policies import renewal_cases
from application.policies.ports import CaseFilters
from application.shared.pagination import PageRequest
from application.shared.visibility import EVERYTHING
from domain.identity.model import User
from entrypoints.container import AppContainer
from tests.conftest import NOW
from tests.factories import new_customer, new_policy
from tests.identity_support import add_branch, make_user

__all__ = ["Book", "PaymentRecord", "add_payment", "day", "patch_case", "seed_book"]


@dataclass
class PaymentRecord:
    """What the in-memory analytics reads of a payment (the payments context keeps its own richer record)."""

    id: int
    case_id: int | None
    status: str
    amount: Decimal
    paid_amount: Decimal | None = None
    refunded_amount: Decimal = Decimal("0")
    paid_at: datetime | None = None
    channel: str | None = None


@dataclass
class Book:
    b1: int
    b2: int
    agent_a: int
    agent_b: int
    manager: int
    cases: dict[str, int] = field(default_factory=dict)  # "c1" -> case id
    staff: dict[str, User] = field(default_factory=dict, compare=False)  # "a", "b", "m" -> the user


def day(days: float) -> datetime:
    return NOW + timedelta(days=days)


async def patch_case(container: AppContainer, case_id: int, **values: Any) -> None:
    engine = container.adapters.engine()
    if engine is None:
        store: MemoryStore = container.adapters.store()  # type: ignore[union-attr]
        case = store.tables.cases[case_id]
        for name, value in values.items():
            setattr(case, name, value)
        return
    async with engine.begin() as conn:
        await conn.execute(update(renewal_cases).where(renewal_cases.c.id == case_id).values(**values))


_payment_ids = itertools.count(1)


async def add_payment(container: AppContainer, case_id: int, status: str, amount: str, *, paid: str | None = None,
                      refunded: str = "0", paid_at: datetime | None = None, channel: str | None = None) -> None:
    values = {"case_id": case_id, "status": status, "amount": Decimal(amount),
              "paid_amount": Decimal(paid) if paid is not None else None, "refunded_amount": Decimal(refunded),
              "paid_at": paid_at, "channel": channel}
    engine = container.adapters.engine()
    if engine is None:
        store: MemoryStore = container.adapters.store()  # type: ignore[union-attr]
        number = store.next_value("payments.id")
        store.tables.payments[number] = PaymentRecord(id=number, **values)  # type: ignore[arg-type]
        return
    async with engine.begin() as conn:
        await conn.execute(insert(payments).values(currency="INR", provider="dev", **values))


_CASES = (  # name, type, branch, due in days, amount, status, assigned, escalated, flagged
    ("c1", "motor", "b1", 1, "1000", "new", "a", None, False),
    ("c2", "motor", "b2", 5, "2000", "contacted", "a", None, False),
    ("c3", "health", "b1", -3, "3000", "renewed", "a", None, False),
    ("c4", "health", "b2", -10, "4000", "lapsed", "b", None, False),
    ("c5", "life", "b2", 2, "5000", "payment_pending", "b", None, True),
    ("c6", "life", None, 20, "6000", "lost", None, None, False),
    ("c7", "motor", "b2", -20, "7000", "renewed", "b", "a", False),
    ("c8", "health", "b1", 40, "8000", "cancelled", None, None, False),
)
# name -> created, assigned_at, first contact, closed (days from now; None: not set)
_TIMES: dict[str, tuple[float, float | None, float | None, float | None]] = {
    "c1": (-10, -9, None, None),
    "c2": (-10, -9, -9 + 5 / 24, None),
    "c3": (-10, None, -8, -2),
    "c4": (-10, -10, -10 + 2 / 24, -1),
    "c5": (-3, -3, None, None),
    "c6": (-3, None, None, 0),
    "c7": (-3, -2, -3, -5),
    "c8": (-3, None, None, -1),
}


async def seed_book(container: AppContainer) -> Book:
    b1, b2 = await add_branch(container, "B1"), await add_branch(container, "B2")
    a = await make_user(container, "agent", branch_id=b1, first_name="Asha", last_name="Agent")
    b = await make_user(container, "agent", branch_id=b2, first_name="Bala", last_name="Agent")
    m = await make_user(container, "manager", branch_id=b1, first_name="Mira", last_name="Manager")
    assert a.id is not None and b.id is not None and m.id is not None
    book = Book(b1=b1, b2=b2, agent_a=a.id, agent_b=b.id, manager=m.id, staff={"a": a, "b": b, "m": m})
    people = {"a": a.id, "b": b.id, None: None}
    places = {"b1": b1, "b2": b2, None: None}
    customer = await container.application.customers().register(new_customer())
    policy_of: dict[int, str] = {}
    for name, kind, branch, due, amount, *_ in _CASES:
        policy = await container.application.policies().issue(new_policy(
            customer.id, renewal_in_days=due, policy_type=kind, premium_amount=Decimal(amount),
            branch_id=places[branch]))
        policy_of[int(policy.id)] = name
    cases = container.application.cases()
    await cases.open_due_cases()
    for view in (await cases.list(CaseFilters(), PageRequest(limit=100), EVERYTHING)).items:
        book.cases[policy_of[int(view.policy_id)]] = int(view.id)
    assert len(book.cases) == len(_CASES)
    for name, _, _, _, _, status, assigned, escalated, flagged in _CASES:
        created, assigned_at, contact, closed = _TIMES[name]
        await patch_case(
            container, book.cases[name], status=status, assigned_to=people[assigned], escalated_to=people[escalated],
            created_at=day(created), assigned_at=None if assigned_at is None else day(assigned_at),
            first_contact_date=None if contact is None else day(contact),
            closed_at=None if closed is None else day(closed),
            flags=[{"code": "partial_payment", "message": "half paid"}] if flagged else [])
    c = book.cases
    await add_payment(container, c["c3"], "paid", "3000", paid="3000", paid_at=day(-2), channel="whatsapp")
    await add_payment(container, c["c5"], "partially_paid", "5000", paid="2500", paid_at=day(-1), channel="sms")
    await add_payment(container, c["c7"], "failed", "7000", channel="sms")
    await add_payment(container, c["c7"], "refunded", "7000", paid="7000", refunded="500", paid_at=day(-5),
                      channel="email")
    await add_payment(container, c["c1"], "link_sent", "1000", channel="whatsapp")
    return book
