"""User items written straight to the table, for tests whose players have no account
made through the API (bots of `support.replay_games` play as users 100, 101, ...;
leaderboard tests record games of users 1..n). Routes that take a bearer token read
the user item to check the token's generation (revocation), so the holder must exist."""

from __future__ import annotations

from typing import Any

from snaketron.db.codec import to_item
from snaketron.db.items import user_item
from snaketron.db.models import UserRecord


async def account(db: Any, user_id: int, username: str, *, token_generation: int = 0) -> None:
    item = user_item(
        UserRecord(user_id=user_id, username=username, password_hash="-", token_generation=token_generation)
    )
    await db.client.call("put_item", TableName=db.tables.main, Item=to_item(item))
