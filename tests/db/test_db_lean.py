"""The lean data plane (`snaketron.db.lean`) against the SDK path, on the real endpoint.

Every hot operation is sent once through each path from the same starting state:
the answers (less the SDK's ResponseMetadata) and the domain errors must be the same.
"""

from __future__ import annotations

import copy
import dataclasses
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from snaketron.config import Settings
from snaketron.db.client import DynamoClient
from snaketron.db.codec import from_item, to_attr, to_item
from snaketron.db.errors import Conflict, DatabaseError, InvalidRequest, TableNotFound, TransactionCancelled
from snaketron.db.lean import LEAN_OPERATIONS, serves
from snaketron.db.tables import TableNames
from support.fault_proxy import FaultProxy

Paths = tuple[DynamoClient, DynamoClient]


@pytest.fixture
async def paths(settings: Settings) -> AsyncIterator[Paths]:
    """(lean, sdk): two clients on the same tables, one per path."""
    async with (
        DynamoClient(dataclasses.replace(settings, db_lean=True)) as lean,
        DynamoClient(dataclasses.replace(settings, db_lean=False)) as sdk,
    ):
        assert lean.lean and not sdk.lean
        yield lean, sdk


def _table(settings: Settings) -> str:
    return TableNames.for_prefix(settings.table_prefix).main


def _base(n: int = 1) -> dict[str, Any]:
    """An item with every attribute type, blobs and sets included."""
    item = to_item(
        {
            "pk": "LEAN#1",
            "sk": f"ITEM#{n}",
            "name": "naïve ✓",
            "count": 7,
            "ratio": 0.25,
            "on": True,
            "nothing_here": None,
            "blob": b"\x00\x01\xffblob",
            "nested": {"list": [1, "two", b"\x03", {"deep": False}], "map": {"x": -1}},
        }
    )
    item["none"] = {"NULL": True}
    item["tags"] = {"SS": ["a", "b"]}
    item["nums"] = {"NS": ["1", "2.5"]}
    item["blobs"] = {"BS": [b"\x00\x01", b"\xff"]}
    return item


def _key(n: int = 1) -> dict[str, Any]:
    return to_item({"pk": "LEAN#1", "sk": f"ITEM#{n}"})


def _plain(item: dict[str, Any]) -> dict[str, Any]:
    """`from_item` of an item without its binary set (the data layer stores none)."""
    return from_item({k: v for k, v in item.items() if "BS" not in v})


def _comparable(response: dict[str, Any]) -> dict[str, Any]:
    """The answer less the SDK's transport metadata, sets in a fixed order."""
    response = {k: v for k, v in response.items() if k != "ResponseMetadata"}

    def normal(value: Any) -> Any:
        if isinstance(value, dict):
            # A set's members in a fixed order; an attribute merely named "SS" (its value a
            # dict, not a list) is normalised like any other.
            return {
                k: sorted(v) if k in ("SS", "NS", "BS") and isinstance(v, list) else normal(v) for k, v in value.items()
            }
        if isinstance(value, list):
            return [normal(v) for v in value]
        return value

    return dict(normal(response))


async def _both(
    paths: Paths,
    operation: str,
    params: dict[str, Any],
    reset: Callable[[DynamoClient], Awaitable[None]],
) -> dict[str, Any]:
    """Send `operation` through each path after `reset`; assert the same answers."""
    answers = []
    for client in paths:
        await reset(paths[1])
        answers.append(_comparable(await client.call(operation, **copy.deepcopy(params))))
    assert answers[0] == answers[1]
    return answers[0]


async def _errors(paths: Paths, operation: str, params: dict[str, Any]) -> list[DatabaseError]:
    raised: list[DatabaseError] = []
    for client in paths:
        with pytest.raises(DatabaseError) as info:
            await client.call(operation, **copy.deepcopy(params))
        raised.append(info.value)
    assert type(raised[0]) is type(raised[1])
    return raised


def _reset_to(table: str, *items: dict[str, Any]) -> Callable[[DynamoClient], Awaitable[None]]:
    async def reset(sdk: DynamoClient) -> None:
        for n in range(1, 4):
            await sdk.call("delete_item", TableName=table, Key=_key(n))
        for item in items:
            await sdk.call("put_item", TableName=table, Item=item)

    return reset


async def test_every_hot_operation_answers_alike_on_both_paths(paths: Paths, settings: Settings) -> None:
    table = _table(settings)
    two = _reset_to(table, _base(1), _base(2))

    got = await _both(paths, "get_item", {"TableName": table, "Key": _key(1), "ConsistentRead": True}, two)
    assert _plain(got["Item"])["blob"] == b"\x00\x01\xffblob"
    assert got["Item"]["blobs"] == {"BS": [b"\x00\x01", b"\xff"]}
    assert await _both(paths, "get_item", {"TableName": table, "Key": _key(3)}, two) == {}

    old = await _both(paths, "put_item", {"TableName": table, "Item": _base(1), "ReturnValues": "ALL_OLD"}, two)
    assert old["Attributes"]["sk"] == {"S": "ITEM#1"}

    update = {
        "TableName": table,
        "Key": _key(1),
        "UpdateExpression": "SET #c = #c + :one, #n.#l = list_append(#n.#l, :more)",
        "ExpressionAttributeNames": {"#c": "count", "#n": "nested", "#l": "list"},
        "ExpressionAttributeValues": {":one": to_attr(1), ":more": to_attr([b"\x04"])},
        "ReturnValues": "ALL_NEW",
    }
    new = await _both(paths, "update_item", update, two)
    assert _plain(new["Attributes"])["nested"]["list"][-1] == b"\x04"

    await _both(paths, "delete_item", {"TableName": table, "Key": _key(2), "ReturnValues": "ALL_OLD"}, two)

    query = {
        "TableName": table,
        "KeyConditionExpression": "pk = :pk",
        "ExpressionAttributeValues": {":pk": to_attr("LEAN#1")},
        "Limit": 1,
    }
    page = await _both(paths, "query", query, two)
    assert len(page["Items"]) == 1 and page["LastEvaluatedKey"] == _key(1)
    query["ExclusiveStartKey"] = page["LastEvaluatedKey"]
    assert (await _both(paths, "query", query, two))["Items"][0]["sk"] == {"S": "ITEM#2"}

    batch_get = {"RequestItems": {table: {"Keys": [_key(1), _key(2), _key(3)], "ConsistentRead": True}}}
    found = await _both(paths, "batch_get_item", batch_get, two)
    assert len(found["Responses"][table]) == 2 and not found.get("UnprocessedKeys")

    writes = {"RequestItems": {table: [{"PutRequest": {"Item": _base(3)}}, {"DeleteRequest": {"Key": _key(1)}}]}}
    assert not (await _both(paths, "batch_write_item", writes, two)).get("UnprocessedItems")

    transaction = {
        "TransactItems": [
            {"Put": {"TableName": table, "Item": _base(3), "ConditionExpression": "attribute_not_exists(pk)"}},
            {"Delete": {"TableName": table, "Key": _key(1), "ConditionExpression": "attribute_exists(pk)"}},
        ]
    }
    await _both(paths, "transact_write_items", transaction, two)

    gets = {"TransactItems": [{"Get": {"TableName": table, "Key": _key(n)}} for n in (1, 2, 3)]}
    answer = await _both(paths, "transact_get_items", gets, two)
    assert [_plain(r.get("Item", {})).get("blob") for r in answer["Responses"]] == [
        b"\x00\x01\xffblob",
        b"\x00\x01\xffblob",
        None,
    ]


async def test_domain_errors_are_the_same_on_both_paths(paths: Paths, settings: Settings) -> None:
    table = _table(settings)
    await _reset_to(table, _base(1))(paths[1])

    conditional = {"TableName": table, "Item": _base(1), "ConditionExpression": "attribute_not_exists(pk)"}
    assert all(type(e) is Conflict for e in await _errors(paths, "put_item", conditional))

    transaction = {
        "TransactItems": [
            {"Put": {"TableName": table, "Item": _base(2), "ConditionExpression": "attribute_not_exists(pk)"}},
            {"Put": {"TableName": table, "Item": _base(1), "ConditionExpression": "attribute_not_exists(pk)"}},
        ]
    }
    cancelled = await _errors(paths, "transact_write_items", transaction)
    assert all(isinstance(e, TransactionCancelled) for e in cancelled)
    assert [e.reasons for e in cancelled if isinstance(e, TransactionCancelled)] == [
        (None, "ConditionalCheckFailed")
    ] * 2

    missing = {"TableName": f"{table}-missing", "Key": _key(1)}
    for operation in ("get_item", "query"):
        params = (
            missing
            if operation == "get_item"
            else {
                "TableName": missing["TableName"],
                "KeyConditionExpression": "pk = :pk",
                "ExpressionAttributeValues": {":pk": to_attr("x")},
            }
        )
        assert all(isinstance(e, TableNotFound) for e in await _errors(paths, operation, params))

    invalid = {"TableName": table, "Key": _key(1), "UpdateExpression": "SET = nonsense"}
    assert all(isinstance(e, InvalidRequest) for e in await _errors(paths, "update_item", invalid))

    # Every attempt and failure is counted the same way on both paths (the SDK client
    # also wrote the starting item).
    lean, sdk = paths
    sdk.metrics.requests["put_item"] -= 1
    del sdk.metrics.requests["delete_item"]
    assert lean.metrics.requests == sdk.metrics.requests
    assert lean.metrics.failures == sdk.metrics.failures


_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(10**30), max_value=10**30)
    | st.text(max_size=20)
    | st.binary(min_size=1, max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(min_size=1, max_size=8), inner, max_size=4),
    max_leaves=12,
)


@hypothesis_settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(attributes=st.dictionaries(st.text(min_size=1, max_size=8).filter(lambda k: k not in ("pk", "sk")), _values))
async def test_any_item_reads_back_alike_through_both_paths(
    paths: Paths, settings: Settings, attributes: dict[str, Any]
) -> None:
    table = _table(settings)
    item = to_item({"pk": "LEAN#P", "sk": "ITEM", **attributes})
    lean, sdk = paths
    written = []
    for writer in paths:
        await writer.call("put_item", TableName=table, Item=item)
        answers = [
            _comparable(await reader.call("get_item", TableName=table, Key=to_item({"pk": "LEAN#P", "sk": "ITEM"})))
            for reader in (lean, sdk)
        ]
        assert answers[0] == answers[1]
        written.append(answers[0])
    assert written[0] == written[1]
    assert from_item(written[0]["Item"]) == from_item(item)


@pytest.mark.parametrize("lean", [True, False])
async def test_throttling_is_retried_with_the_same_policy_on_both_paths(
    settings: Settings, dynamo_endpoint: str, lean: bool
) -> None:
    async with FaultProxy(dynamo_endpoint, seed=3) as proxy:
        faulty = dataclasses.replace(settings, dynamodb_endpoint=proxy.url, db_lean=lean)
        async with DynamoClient(faulty) as client:
            assert client.lean is lean
            proxy.throttle = 0.4
            proxy.server_error = 0.1
            table = _table(settings)
            for n in range(1, 13):
                await client.call("put_item", TableName=table, Item=_base(n))
                got = await client.call("get_item", TableName=table, Key=_key(n), ConsistentRead=True)
                assert got["Item"]["sk"] == {"S": f"ITEM#{n}"}
            proxy.heal()
    m = client.metrics
    assert proxy.counts["throttled"] > 0 and proxy.counts["server_errors"] > 0
    assert m.throttled == proxy.counts["throttled"]
    assert m.retries == proxy.counts["throttled"] + proxy.counts["server_errors"]
    assert sum(m.requests.values()) == 24 + m.retries
    assert m.gave_up == 0


def test_the_lean_operations_are_the_hot_ones() -> None:
    assert set(LEAN_OPERATIONS) == {
        "get_item",
        "put_item",
        "update_item",
        "delete_item",
        "query",
        "batch_get_item",
        "batch_write_item",
        "transact_write_items",
        "transact_get_items",
    }


def test_endpoints_behind_a_path_stay_on_the_sdk() -> None:
    assert serves("https://dynamodb.eu-west-1.amazonaws.com")
    assert serves("http://127.0.0.1:4566/")
    assert not serves("https://proxy.example.com/dynamodb")
    assert not serves("http://127.0.0.1:4566/?x=1")
