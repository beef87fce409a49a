from snaketron.db.errors import NotFound, UsernameTaken


async def test_user_roundtrip(db):
    user = await db.create_user("Alice", "h1", now_ms=1_000)
    assert (await db.get_user_by_username("ALICE")).user_id == user.user_id
    try:
        await db.create_user("alice", "h2", now_ms=2_000)
    except UsernameTaken:
        pass
    else:
        raise AssertionError("second alice created")
    try:
        await db.get_user(999_999)
    except NotFound:
        pass
