"""Who may try a password now: the failed-login policy of the account API.

An attacker knows every player's name, so nothing an attacker's failures trigger
may refuse the owner's correct password from the owner's own address. The policy
(RELIABILITY.md, "Login throttling"):

- per (account, address): from the `pair_free_failures`-th failure on, a wait that
  doubles with every further failure (`first_backoff_s`, 2x, 4x... up to MAX_BACKOFF_S); refused with 429
  and Retry-After meanwhile. Only that address is refused for that account.
- per address: the same, with a larger allowance, over every account it tries (one
  address spraying passwords over many names).
- per account, from every address together: from `account_slowdown_after` failures, each
  login attempt on the account waits a growing delay before its password is checked
  (ACCOUNT_FIRST_DELAY_S doubling, at most ACCOUNT_MAX_DELAY_S). That slows a
  distributed guesser down and never refuses anyone, the owner included.

A correct password clears its (account, address) and its account count; the
address count is not cleared by one success (an attacker holding one account of
their own must not reset their spraying budget with it).
"""

from __future__ import annotations

import time

from snaketron.ratelimit import Clock, FailureBackoff

MAX_BACKOFF_S = 900.0  # 15 minutes between guesses at worst
FORGET_AFTER_S = 3600.0  # failures an hour old no longer count
ACCOUNT_FIRST_DELAY_S = 0.25
ACCOUNT_MAX_DELAY_S = 2.0


class LoginThrottle:
    def __init__(
        self,
        *,
        pair_free_failures: int,
        address_free_failures: int,
        account_slowdown_after: int,
        first_backoff_s: float,
        clock: Clock = time.monotonic,
    ) -> None:
        first = min(first_backoff_s, MAX_BACKOFF_S)
        self._pairs = FailureBackoff(pair_free_failures, first, MAX_BACKOFF_S, FORGET_AFTER_S, clock=clock)
        self._addresses = FailureBackoff(address_free_failures, first, MAX_BACKOFF_S, FORGET_AFTER_S, clock=clock)
        self._accounts = FailureBackoff(
            account_slowdown_after, ACCOUNT_FIRST_DELAY_S, ACCOUNT_MAX_DELAY_S, FORGET_AFTER_S, clock=clock
        )

    def wait_before(self, account: str, address: str) -> float:
        """Seconds this address must wait before trying this account again (0: now)."""
        return max(self._pairs.blocked_for(_pair(account, address)), self._addresses.blocked_for(address))

    def slowdown(self, account: str) -> float:
        """How long an attempt on this account waits before its password is checked."""
        return self._accounts.penalty(account)

    def failed(self, account: str, address: str) -> tuple[float, float]:
        """Count a failure; returns the waits it earned (pair, address)."""
        self._accounts.record_failure(account)
        return self._pairs.record_failure(_pair(account, address)), self._addresses.record_failure(address)

    def succeeded(self, account: str, address: str) -> None:
        self._pairs.clear(_pair(account, address))
        self._accounts.clear(account)


def _pair(account: str, address: str) -> str:
    # An address never holds a NUL, so the two parts cannot run into each other.
    return f"{address}\0{account}"
