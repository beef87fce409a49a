"""The case-collision policy: one name per lower-cased key, nobody silently lost.

Earlier deployments compared usernames case-sensitively, so "alice" and "Alice"
could both exist; this server has one account per name regardless of case. The
policy, applied the same way on every run so that runs agree:

- within a group of names equal but for case, the oldest account (earliest
  `created_at`, then lowest id) keeps its name exactly as it was;
- every other account of the group is renamed to `<name>_<n>` with the smallest
  n >= 2 whose name is free (no legacy account and no earlier rename holds it, in
  any case), after replacing characters today's rules refuse by `_` and shortening
  the name so the result is a valid username of at most 20 characters;
- every renamed account is listed in the migration report with its old and new
  name and the account that kept the name, so operators can tell the players.

Names that are unique but break today's rules (too long, spaces, ...) are kept
unchanged, since their owners can still log in with them; the report lists them.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterable, Sequence

import msgspec

from snaketron.auth import USERNAME_MAX, validate_username

_REFUSED_CHARS = re.compile(r"[^A-Za-z0-9_-]")
_FALLBACK_BASE = "player"


class LegacyAccountName(msgspec.Struct, frozen=True, kw_only=True):
    user_id: int
    username: str
    created_at_ms: int


class RenamedAccount(msgspec.Struct, frozen=True, kw_only=True):
    user_id: int
    old_username: str
    new_username: str
    name_kept_by_user_id: int  # the oldest account of the group, which keeps the name


class NonconformingName(msgspec.Struct, frozen=True, kw_only=True):
    user_id: int
    username: str
    problems: list[str]


def renamed_candidate(name: str, n: int) -> str:
    """`name` with the suffix `_<n>`, shaped into a valid username."""
    suffix = f"_{n}"
    base = _REFUSED_CHARS.sub("_", name).strip("_-")
    base = base[: USERNAME_MAX - len(suffix)].rstrip("_-") or _FALLBACK_BASE
    return base + suffix


def oldest_first(group: Iterable[LegacyAccountName]) -> list[LegacyAccountName]:
    return sorted(group, key=lambda account: (account.created_at_ms, account.user_id))


class CandidatesExhausted(Exception):
    """The plan needs a name whose status was not looked up: look up more, plan again."""


def plan_renames(
    groups: Iterable[Sequence[LegacyAccountName]],
    *,
    taken: Collection[str],
    checked: Collection[str],
) -> list[RenamedAccount]:
    """Renames for every account but the oldest of each group.

    `taken`: lower-cased names a legacy account holds; `checked`: every name whose
    status was looked up (see `candidates_for`). Names handed out by this plan are
    tracked here. Groups are handled in order of their lower-cased name, so the plan
    depends only on the legacy data.
    """
    assigned: set[str] = set()
    renames: list[RenamedAccount] = []
    for group in sorted(groups, key=lambda g: g[0].username.lower()):
        keeper, *others = oldest_first(group)
        for account in others:
            n = 2
            while True:
                candidate = renamed_candidate(account.username, n)
                key = candidate.lower()
                if key not in checked:
                    raise CandidatesExhausted(key)
                if key not in assigned and key not in taken:
                    break
                n += 1
            assigned.add(key)
            renames.append(
                RenamedAccount(
                    user_id=account.user_id,
                    old_username=account.username,
                    new_username=candidate,
                    name_kept_by_user_id=keeper.user_id,
                )
            )
    return renames


def candidates_for(groups: Iterable[Sequence[LegacyAccountName]], *, spare: int) -> set[str]:
    """Lower-cased names a plan may try, to ask the source which are taken in one query.

    A group of k accounts needs k - 1 free names; `spare` more per group cover names
    that legacy accounts already hold.
    """
    names: set[str] = set()
    for group in groups:
        for account in group:
            for n in range(2, len(group) + 1 + spare):
                names.add(renamed_candidate(account.username, n).lower())
    return names


def nonconforming(user_id: int, username: str) -> NonconformingName | None:
    problems = validate_username(username)
    return NonconformingName(user_id=user_id, username=username, problems=problems) if problems else None
