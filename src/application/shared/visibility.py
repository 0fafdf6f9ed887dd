"""Which owned records a caller may see; read models turn it into SQL conditions, never post-filters."""

from __future__ import annotations

from typing import Literal

import msgspec

__all__ = ["EVERYTHING", "Reach", "Visibility"]

Reach = Literal["all", "branch", "own"]


class Visibility(msgspec.Struct, frozen=True, kw_only=True):
    """A caller's reach over owned records (cases, claims, conversations, uploads).

    `all` sees every record. `own` sees the records the user owns (assigned to, escalated to, handled or made
    by them). `branch` sees its own records plus those belonging to the user's branch; a user with no branch
    sees only their own. Each read model defines what "owns" and "belongs to the branch" mean for its records.
    """

    reach: Reach
    user_id: int | None = None
    branch_id: int | None = None

    def __post_init__(self) -> None:
        if self.reach != "all" and self.user_id is None:
            raise ValueError("an own or branch visibility needs the user's id")


EVERYTHING = Visibility(reach="all")
