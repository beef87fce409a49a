"""Domain errors of the data layer.

No SDK exception type leaks above `snaketron.db`: the client wrapper maps every
botocore/aiohttp failure to one of these, in one place.
"""

from __future__ import annotations


class DatabaseError(Exception):
    """Base of every error the data layer raises."""


class DatabaseUnavailable(DatabaseError):
    """The endpoint could not be reached or kept failing past the retry budget/deadline."""


class WriteDropped(DatabaseUnavailable):
    """The batch writer was closed (the shutdown's flush deadline) before the item was
    written. The writer logs how many it dropped: callers need not log each."""


class TableNotFound(DatabaseUnavailable):
    """A table is missing: tables not created yet, or the wrong prefix/endpoint."""


class NotFound(DatabaseError):
    """The item does not exist (or has expired)."""


class Conflict(DatabaseError):
    """A conditional write lost: the item exists or changed meanwhile."""


# Cancellation reasons of an action DynamoDB refused as invalid: AWS says ValidationError,
# moto (the embedded endpoint) ValidationException.
VALIDATION_REASONS = frozenset({"ValidationError", "ValidationException"})


class TransactionCancelled(Conflict):
    """A transaction lost a condition. `reasons` holds one cancellation code per
    action, in request order (None where that action was fine), so the caller can
    tell which claim failed and raise the precise domain error."""

    def __init__(self, message: str = "", reasons: tuple[str | None, ...] = ()) -> None:
        super().__init__(message or "transaction cancelled")
        self.reasons = reasons

    def failed(self, code: str = "ConditionalCheckFailed") -> list[int]:
        """Indexes of the actions that failed with `code`."""
        return [i for i, reason in enumerate(self.reasons) if reason == code]

    def invalid(self) -> list[int]:
        """Indexes of the actions refused as malformed, not for a condition: a number
        outside DynamoDB's range, an item too large. Sending them again cannot help."""
        return [i for i, reason in enumerate(self.reasons) if reason in VALIDATION_REASONS]


class RatingConflict(Conflict):
    """A rating write's guard failed: the users' ratings changed since the copies the new
    ratings were computed from (another game of theirs was rated meanwhile). The caller
    reads them again and re-rates."""

    def __init__(self, message: str = "", user_ids: tuple[int, ...] = ()) -> None:
        super().__init__(message or "ratings changed meanwhile")
        self.user_ids = user_ids


class UsernameTaken(Conflict):
    """Another account holds this name (compared case-insensitively)."""


class GameCodeTaken(Conflict):
    """The game code is already claimed by a live lobby or game."""


class TicketAlreadyClaimed(Conflict):
    """A match ticket in a claim was already matched or removed."""

    def __init__(self, message: str = "", user_ids: tuple[int, ...] = ()) -> None:
        super().__init__(message or "match ticket already claimed")
        self.user_ids = user_ids


class LeaseHeld(Conflict):
    """Another owner holds an unexpired lease."""


class InvalidRequest(DatabaseError):
    """The request was malformed (a validation error): a bug, never retried."""
