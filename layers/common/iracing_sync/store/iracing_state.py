"""The iRacing account's shared state: its OAuth tokens and its request budget, one partition per account.

- token:       pk IRACING#<sha256(username)[:16]>, sk TOKEN
- rate budget: pk IRACING#<sha256(username)[:16]>, sk RATE

Every Lambda shares one login and one budget through these two items. Both change only by conditional writes,
never by waiting: a write that loses a race reports it and the client decides (use the winner's token, or raise
a retryable error for Step Functions to back off). No by_parent/by_time keys: no index, no API route ever sees
these items, and the one function that may touch only them is limited to keys IRACING#* (template.yaml).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Any

from pynamodb.attributes import BooleanAttribute, NumberAttribute, UnicodeAttribute
from pynamodb.exceptions import PynamoDBException

from iracing_sync.errors import RetryableError
from iracing_sync.store.schema import Item, get_item, lost_race


def iracing_account_key(username: str) -> str:
    """The partition of one iRacing account (a hash, so the username is no key in the table)."""
    return "IRACING#" + hashlib.sha256(username.strip().lower().encode()).hexdigest()[:16]


class TokenStateItem(Item, discriminator="token"):
    """The account's OAuth tokens; ``lock_owner``/``locked_until`` mark a refresh in progress."""

    access_token = UnicodeAttribute(null=True)
    expires_at = NumberAttribute(null=True)
    refresh_token = UnicodeAttribute(null=True)
    refresh_expires_at = NumberAttribute(null=True)
    version = NumberAttribute(default=0)
    lock_owner = UnicodeAttribute(null=True)
    locked_until = NumberAttribute(null=True)


class RateBudgetItem(Item, discriminator="rate_budget"):
    """Requests left in the account's current rate window: iRacing's headers less our reservations."""

    reset_at = NumberAttribute()
    remaining = NumberAttribute()
    limit = NumberAttribute(null=True)
    # True until a response's x-ratelimit-* headers told us the server's own window.
    provisional = BooleanAttribute(default=False)


@dataclass(frozen=True)
class TokenState:
    """The shared token state as read (token values never appear in a repr)."""

    access_token: str | None = field(default=None, repr=False)
    expires_at: float | None = None
    refresh_token: str | None = field(default=None, repr=False)
    refresh_expires_at: float | None = None
    version: int = 0
    locked_until: float | None = None

    def access_valid(self, now: float, margin: float) -> bool:
        """An access token that stays valid for at least ``margin`` seconds."""
        return bool(self.access_token) and (self.expires_at or 0) > now + margin

    def refresh_valid(self, now: float, margin: float) -> bool:
        """A refresh token not known to expire within ``margin`` seconds."""
        return bool(self.refresh_token) and (self.refresh_expires_at is None or self.refresh_expires_at > now + margin)

    def locked(self, now: float) -> bool:
        """Another invocation holds a live refresh lock."""
        return self.locked_until is not None and self.locked_until > now


def _float_or_none(value: Any) -> float | None:
    return float(value) if value is not None else None


def load_token(account: str) -> TokenState | None:
    """The account's token state (consistent read), or None if no token was ever stored."""
    item = get_item(TokenStateItem, account, "TOKEN", "the iRacing token state", consistent_read=True)
    if item is None:
        return None
    return TokenState(
        access_token=item.access_token,
        expires_at=_float_or_none(item.expires_at),
        refresh_token=item.refresh_token,
        refresh_expires_at=_float_or_none(item.refresh_expires_at),
        version=int(item.version or 0),
        locked_until=_float_or_none(item.locked_until),
    )


def lock_token(account: str, owner: str, version: int, now: float, until: float) -> bool:
    """Take the refresh lock if the state is still at ``version`` and no live lock is held.

    False means another invocation holds the lock, or has replaced the token since it was read.
    """
    unchanged = TokenStateItem.pk.does_not_exist() | (TokenStateItem.version == version)
    unlocked = TokenStateItem.locked_until.does_not_exist() | (TokenStateItem.locked_until <= now)
    try:
        TokenStateItem(account, "TOKEN").update(
            actions=[
                TokenStateItem.item_type.set(TokenStateItem),
                TokenStateItem.version.set(version),
                TokenStateItem.lock_owner.set(owner),
                TokenStateItem.locked_until.set(until),
            ],
            condition=unchanged & unlocked,
        )
    except PynamoDBException as exc:
        if lost_race(exc):
            return False
        raise RetryableError(f"DynamoDB lock of the iRacing token state failed: {exc.msg}") from exc
    return True


def save_token(
    account: str,
    owner: str,
    *,
    access_token: str,
    expires_at: float,
    refresh_token: str | None,
    refresh_expires_at: float | None,
) -> bool:
    """Store a new token pair and release the lock, if ``owner`` still holds it (False if it lost it)."""
    actions: list[Any] = [
        TokenStateItem.access_token.set(access_token),
        TokenStateItem.expires_at.set(expires_at),
        TokenStateItem.version.add(1),
        TokenStateItem.lock_owner.remove(),
        TokenStateItem.locked_until.remove(),
    ]
    if refresh_token:
        actions += [TokenStateItem.refresh_token.set(refresh_token)]
        actions += [
            TokenStateItem.refresh_expires_at.set(refresh_expires_at)
            if refresh_expires_at is not None
            else TokenStateItem.refresh_expires_at.remove()
        ]
    else:
        # The old refresh token was spent (or never existed): keeping it would only cause an invalid_grant.
        actions += [TokenStateItem.refresh_token.remove(), TokenStateItem.refresh_expires_at.remove()]
    try:
        TokenStateItem(account, "TOKEN").update(actions=actions, condition=TokenStateItem.lock_owner == owner)
    except PynamoDBException as exc:
        if lost_race(exc):
            return False
        raise RetryableError(f"DynamoDB write of the iRacing token state failed: {exc.msg}") from exc
    return True


def unlock_token(account: str, owner: str) -> None:
    """Release the refresh lock after a failed refresh, so the next invocation need not wait for it to expire."""
    try:
        TokenStateItem(account, "TOKEN").update(
            actions=[TokenStateItem.lock_owner.remove(), TokenStateItem.locked_until.remove()],
            condition=TokenStateItem.lock_owner == owner,
        )
    except PynamoDBException as exc:
        if not lost_race(exc):
            raise RetryableError(f"DynamoDB unlock of the iRacing token state failed: {exc.msg}") from exc


@dataclass(frozen=True)
class Reservation:
    """The answer to "may I send one more request?": granted or not, and the window it belongs to."""

    granted: bool
    reset_at: float
    remaining: int  # left in the window after this reservation (or, when refused, before it)
    provisional: bool = False  # the window is our guess until iRacing's headers are seen


def _budget_key(account: str) -> RateBudgetItem:
    return RateBudgetItem(account, "RATE")


def reserve_request(account: str, *, now: float, reserve: int, default_limit: int, window: float) -> Reservation:
    """Count one request against the shared budget before it is sent (atomic; never waits).

    Granted while the current window has more than ``reserve`` requests left; the reserve absorbs the
    requests other invocations have in flight when a window changes. When no window is known or the known
    one is over, a provisional window of ``window`` seconds opens with the last seen limit; the first
    response's headers replace it with iRacing's own (see ``observe_rate``).
    """
    for _ in range(3):  # bounded: each pass either decides or loses a race to a writer that just decided
        item = _budget_key(account)
        try:
            item.update(
                actions=[RateBudgetItem.remaining.add(-1)],
                condition=(RateBudgetItem.reset_at > now) & (RateBudgetItem.remaining > reserve),
            )
            return Reservation(True, float(item.reset_at), int(item.remaining), bool(item.provisional))
        except PynamoDBException as exc:
            if not lost_race(exc):
                raise RetryableError(f"DynamoDB update of the iRacing rate budget failed: {exc.msg}") from exc
        current = get_item(RateBudgetItem, account, "RATE", "the iRacing rate budget", consistent_read=True)
        if current is not None and float(current.reset_at) > now:
            if int(current.remaining) <= reserve:
                return Reservation(False, float(current.reset_at), int(current.remaining))
            continue  # budget was replenished by a newer window meanwhile: try again
        limit = int(current.limit) if current is not None and current.limit else default_limit
        fresh = RateBudgetItem(
            account, "RATE", reset_at=now + window, remaining=limit - 1, limit=limit, provisional=True
        )
        try:
            fresh.save(condition=RateBudgetItem.pk.does_not_exist() | (RateBudgetItem.reset_at <= now))
            return Reservation(True, now + window, limit - 1, provisional=True)
        except PynamoDBException as exc:
            if not lost_race(exc):
                raise RetryableError(f"DynamoDB write of the iRacing rate budget failed: {exc.msg}") from exc
    raise RetryableError("the iRacing rate budget is contended; retry")


def observe_rate(account: str, *, reset_at: float, remaining: int, limit: int | None, now: float) -> None:
    """Fold one response's x-ratelimit-* headers into the shared budget.

    A header of a window already over changes nothing. Otherwise the header wins over a provisional or
    older window, and within the same window the budget only ever goes down (the lower of ours and iRacing's).
    """
    if reset_at <= now:
        return
    condition = (
        RateBudgetItem.pk.does_not_exist()
        | (RateBudgetItem.provisional == True)  # noqa: E712 - a DynamoDB condition, not a Python comparison
        | (RateBudgetItem.reset_at < reset_at)
        | ((RateBudgetItem.reset_at == reset_at) & (RateBudgetItem.remaining > remaining))
    )
    actions: list[Any] = [
        RateBudgetItem.item_type.set(RateBudgetItem),
        RateBudgetItem.reset_at.set(reset_at),
        RateBudgetItem.remaining.set(remaining),
        RateBudgetItem.provisional.set(False),
    ]
    if limit is not None:
        actions.append(RateBudgetItem.limit.set(limit))
    try:
        _budget_key(account).update(actions=actions, condition=condition)
    except PynamoDBException as exc:
        if not lost_race(exc):
            raise RetryableError(f"DynamoDB update of the iRacing rate budget failed: {exc.msg}") from exc
