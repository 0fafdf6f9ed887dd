"""SQL repositories of the identity context: users with their recovery codes, roles, and the audit trail.

`get` and `get_by_email` lock the user's row until the unit ends (as the policies repositories do), so a
load-change-save in one unit never overwrites what a concurrent unit's atomic statement (TOTP step claim,
reset-token take) wrote meanwhile: that statement waits for the lock and then sees the saved row.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import fields
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Row, Select, delete, exists, func, insert, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from adapters.sqlalchemy.errors import translate_integrity_error
from adapters.sqlalchemy.listing import order_by
from adapters.sqlalchemy.tables.identity import branches, roles, user_recovery_codes, users
from application.identity.repositories import UserFilters
from application.shared.pagination import Page, PageRequest, SortKey
from domain.identity.model import Role, User, UserStatus
from domain.identity.permissions import grants_to_json, parse_grants
from domain.shared.errors import Conflict, NotFound, ValidationFailed

__all__ = ["USER_SORT", "SqlAlchemyRoleRepository", "SqlAlchemyUserRepository", "check_sort", "like_escape"]

_U = users.c
_R = roles.c
_C = user_recovery_codes.c
_AnyRow = Row[*tuple[Any, ...]]
Now = Callable[[], datetime]

_GENERATED = frozenset({"id", "created_at", "updated_at"})
_USER_FIELDS = tuple(f.name for f in fields(User) if f.name not in _GENERATED)
USER_SORT: dict[str, ColumnElement[Any]] = {
    "id": _U.id, "email": _U.email, "firstName": _U.first_name, "lastName": _U.last_name,
    "createdAt": _U.created_at, "lastLogin": _U.last_login,
}
DEFAULT_USER_SORT = (SortKey("lastName"), SortKey("firstName"))


def _user(row: _AnyRow) -> User:
    data = dict(row._mapping)
    data["status"] = UserStatus(data["status"])
    data["role_id"] = data["role_id"] or 0  # a legacy row without a role: no role id 0 exists
    return User(**data)


def _user_values(user: User) -> dict[str, Any]:
    return {name: getattr(user, name) for name in _USER_FIELDS}


def _role(row: _AnyRow) -> Role:
    return Role(id=row.id, name=row.name, display_name=row.display_name, grants=tuple(parse_grants(row.permissions)),
                description=row.description, is_system=row.is_system, requires_mfa=row.requires_mfa,
                created_at=row.created_at, updated_at=row.updated_at)


def _role_values(role: Role) -> dict[str, Any]:
    return {"name": role.name, "display_name": role.display_name, "description": role.description,
            "permissions": grants_to_json(role.grants), "is_system": role.is_system,
            "requires_mfa": role.requires_mfa}


def like_escape(text: str) -> str:
    """`text` with LIKE's wildcards and the escape character itself escaped (use with escape="\\")."""
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def check_sort(sort: Sequence[SortKey], allowed: Sequence[str]) -> None:
    for key in sort:
        if key.field not in allowed:
            raise ValidationFailed.on("sort", f"cannot sort by '{key.field}'; allowed: {', '.join(allowed)}")


class _Writer:
    def __init__(self, session: AsyncSession, now: Now) -> None:
        self._session = session
        self._now = now

    async def _write(self, stmt: Any) -> _AnyRow | None:
        """Run one write in a savepoint, so that a violated constraint leaves the unit usable."""
        try:
            async with self._session.begin_nested():
                row: _AnyRow | None = (await self._session.execute(stmt)).one_or_none()
                return row
        except IntegrityError as exc:
            raise translate_integrity_error(exc) from None


class SqlAlchemyUserRepository(_Writer):
    async def get(self, user_id: int) -> User | None:
        return await self._one(_U.id == user_id)

    async def get_by_email(self, email: str) -> User | None:
        return await self._one(_U.email == email)

    async def _one(self, where: ColumnElement[bool]) -> User | None:
        # FOR NO KEY UPDATE: serialises changes to the user, yet lets other transactions insert rows that
        # reference it (a session started while this unit is open would deadlock against FOR UPDATE).
        row = (await self._session.execute(
            select(users).where(where).with_for_update(key_share=True))).one_or_none()
        return None if row is None else _user(row)

    async def add(self, user: User) -> User:
        now = self._now()
        row = await self._write(insert(users).values(**_user_values(user), created_at=now, updated_at=now)
                                .returning(_U.id, _U.created_at, _U.updated_at))
        assert row is not None
        user.id, user.created_at, user.updated_at = row
        return user

    async def save(self, user: User) -> None:
        """Every field; `mfa_last_step` never moves back (GREATEST), so a stale copy cannot undo a claim."""
        values = _user_values(user)
        values["mfa_last_step"] = func.greatest(_U.mfa_last_step, user.mfa_last_step)
        row = await self._write(update(users).where(_U.id == user.id).values(**values, updated_at=self._now())
                                .returning(_U.mfa_last_step, _U.updated_at))
        if row is None:
            raise NotFound("user", user.id)
        user.mfa_last_step, user.updated_at = row

    async def count_with_role(self, role_id: int, *, active_only: bool = False) -> int:
        stmt = select(func.count()).select_from(users).where(_U.role_id == role_id)
        if active_only:
            stmt = stmt.where(_U.status == UserStatus.ACTIVE.value)
        return int((await self._session.execute(stmt)).scalar_one())

    async def branch_exists(self, branch_id: int) -> bool:
        return bool((await self._session.execute(
            select(exists().where(branches.c.id == branch_id)))).scalar_one())

    async def claim_totp_step(self, user_id: int, step: int) -> bool:
        row = (await self._session.execute(
            update(users).where(_U.id == user_id, or_(_U.mfa_last_step.is_(None), _U.mfa_last_step < step))
            .values(mfa_last_step=step).returning(_U.id))).first()
        return row is not None

    async def take_reset_token(self, token_hash: str, now: datetime) -> int | None:
        row = (await self._session.execute(
            update(users).where(_U.password_reset_token == token_hash, _U.password_reset_expires > now)
            .values(password_reset_token=None, password_reset_expires=None).returning(_U.id))).first()
        return None if row is None else int(row.id)

    async def replace_recovery_codes(self, user_id: int, code_hashes: list[str], now: datetime) -> None:
        await self._session.execute(delete(user_recovery_codes).where(_C.user_id == user_id))
        unique = list(dict.fromkeys(code_hashes))
        if unique:
            try:
                async with self._session.begin_nested():
                    await self._session.execute(insert(user_recovery_codes), [
                        {"user_id": user_id, "code_hash": code, "created_at": now} for code in unique])
            except IntegrityError as exc:
                raise translate_integrity_error(exc) from None

    async def unused_recovery_codes(self, user_id: int) -> list[str]:
        rows = await self._session.execute(
            select(_C.code_hash).where(_C.user_id == user_id, _C.used_at.is_(None)).order_by(_C.id))
        return list(rows.scalars())

    async def use_recovery_code(self, user_id: int, code_hash: str, now: datetime) -> bool:
        row = (await self._session.execute(
            update(user_recovery_codes)
            .where(_C.user_id == user_id, _C.code_hash == code_hash, _C.used_at.is_(None))
            .values(used_at=now).returning(_C.id))).first()
        return row is not None

    async def list(self, filters: UserFilters, page: PageRequest) -> Page[User]:
        check_sort(page.sort, tuple(USER_SORT))
        where = _user_conditions(filters)
        total = (await self._session.execute(select(func.count()).select_from(users).where(*where))).scalar_one()
        stmt: Select[Any] = (select(users).where(*where)
                             .order_by(*order_by(page.sort or DEFAULT_USER_SORT, USER_SORT, _U.id))
                             .limit(page.limit).offset(page.offset))
        items = [_user(row) for row in await self._session.execute(stmt)]
        return Page(items=items, page=page.page, limit=page.limit, total=total)


def _user_conditions(filters: UserFilters) -> list[ColumnElement[bool]]:
    where: list[ColumnElement[bool]] = []
    q = (filters.q or "").strip()
    if q:
        pattern = f"%{like_escape(q)}%"
        where.append(or_(*(column.ilike(pattern, escape="\\")
                           for column in (_U.email, _U.first_name, _U.last_name))))
    if filters.role_id:
        where.append(_U.role_id.in_(filters.role_id))
    if filters.branch_id:
        where.append(_U.branch_id.in_(filters.branch_id))
    if filters.status:
        where.append(_U.status.in_(filters.status))
    return where


class SqlAlchemyRoleRepository(_Writer):
    async def get(self, role_id: int) -> Role | None:
        row = (await self._session.execute(select(roles).where(_R.id == role_id))).one_or_none()
        return None if row is None else _role(row)

    async def get_by_name(self, name: str) -> Role | None:
        row = (await self._session.execute(select(roles).where(_R.name == name))).one_or_none()
        return None if row is None else _role(row)

    async def list(self) -> list[Role]:
        rows = await self._session.execute(select(roles).order_by(_R.is_system.desc(), _R.name, _R.id))
        return [_role(row) for row in rows]

    async def add(self, role: Role) -> Role:
        now = self._now()
        row = await self._write(insert(roles).values(**_role_values(role), created_at=now, updated_at=now)
                                .returning(_R.id, _R.created_at, _R.updated_at))
        assert row is not None
        role.id, role.created_at, role.updated_at = row
        return role

    async def save(self, role: Role) -> None:
        row = await self._write(update(roles).where(_R.id == role.id)
                                .values(**_role_values(role), updated_at=self._now()).returning(_R.updated_at))
        if row is None:
            raise NotFound("role", role.id)
        role.updated_at = row.updated_at

    async def delete(self, role_id: int) -> None:
        """Delete the role (nothing when there is none); Conflict while users still have it."""
        try:
            async with self._session.begin_nested():
                await self._session.execute(delete(roles).where(_R.id == role_id))
        except IntegrityError:
            raise Conflict("the role is still assigned to users", field="roleId") from None
