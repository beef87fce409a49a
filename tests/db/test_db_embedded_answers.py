"""The embedded endpoint encodes item answers itself (embedded_moto's direct answers):
for every item operation, with every attribute type, the SDK reads exactly what
moto's own serializer would have given it.

moto runs in this process here (its in-process mock), with the embedded endpoint's
changes installed: the same sequence of requests is answered once directly and once
with the direct answers switched off, and the two are compared as the SDK parsed
them."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from moto import mock_aws
from moto.core.responses import ActionResult

from snaketron.db import embedded_moto

TABLE = "answers"
BINARY = bytes(range(256))  # every byte value, as a replay piece holds


def _item(n: int) -> dict[str, Any]:
    return {
        "pk": {"S": f"P#{n % 3}"},
        "sk": {"S": f"S#{n:03d}"},
        "gsi1pk": {"S": f"G#{n % 2}"},
        "gsi1sk": {"N": str(1000 - n)},
        "name": {"S": f"player é {n}"},
        "score": {"N": "12.50"},
        "blob": {"B": BINARY[n:] + BINARY[:n]},
        "flags": {"SS": ["a", f"b{n}"]},
        "counts": {"NS": ["1", str(n + 2)]},
        "bins": {"BS": [b"\x00\x01", bytes([n])]},
        "nested": {"M": {"inner": {"L": [{"S": "x"}, {"N": "1"}, {"B": b"\xff\x00"}, {"NULL": True}]}}},
        "ok": {"BOOL": n % 2 == 0},
        "nothing": {"NULL": True},
    }


def _requests(client: Any) -> Iterator[tuple[str, Any]]:
    """Every item operation the server makes, and a few it might: (name, answer)."""
    client.create_table(
        TableName=TABLE,
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
        AttributeDefinitions=[
            {"AttributeName": n, "AttributeType": t}
            for n, t in (("pk", "S"), ("sk", "S"), ("gsi1pk", "S"), ("gsi1sk", "N"))
        ],
        GlobalSecondaryIndexes=[
            {
                "IndexName": "GSI1",
                "KeySchema": [
                    {"AttributeName": "gsi1pk", "KeyType": "HASH"},
                    {"AttributeName": "gsi1sk", "KeyType": "RANGE"},
                ],
                "Projection": {"ProjectionType": "ALL"},
            }
        ],
        BillingMode="PAY_PER_REQUEST",
    )
    capacity = {"ReturnConsumedCapacity": "TOTAL"}
    for n in range(6):
        yield "put", client.put_item(TableName=TABLE, Item=_item(n), **capacity)
    yield "put again", client.put_item(TableName=TABLE, Item=_item(0), ReturnValues="ALL_OLD")
    key = {"pk": {"S": "P#1"}, "sk": {"S": "S#004"}}
    yield "get", client.get_item(TableName=TABLE, Key=key, ConsistentRead=True)
    yield "get missing", client.get_item(TableName=TABLE, Key={"pk": {"S": "none"}, "sk": {"S": "none"}})
    yield (
        "get projected",
        client.get_item(
            TableName=TABLE,
            Key=key,
            ProjectionExpression="#n, #b, nested.inner",
            ExpressionAttributeNames={"#n": "name", "#b": "blob"},
        ),
    )
    keys = [{"pk": {"S": f"P#{n % 3}"}, "sk": {"S": f"S#{n:03d}"}} for n in (1, 2, 5, 9)]
    yield "batch get", client.batch_get_item(RequestItems={TABLE: {"Keys": keys, "ConsistentRead": True}}, **capacity)
    partition = {"KeyConditionExpression": "pk = :p", "ExpressionAttributeValues": {":p": {"S": "P#0"}}}
    yield "query", client.query(TableName=TABLE, **partition, **capacity)
    yield "query page", client.query(TableName=TABLE, Limit=1, ScanIndexForward=False, **partition)
    yield "query count", client.query(TableName=TABLE, Select="COUNT", **partition)
    index = {"KeyConditionExpression": "gsi1pk = :g", "ExpressionAttributeValues": {":g": {"S": "G#1"}}}
    yield "index query", client.query(TableName=TABLE, IndexName="GSI1", **index)
    yield "index query page", client.query(TableName=TABLE, IndexName="GSI1", Limit=2, **index)
    yield "scan", client.scan(TableName=TABLE, Limit=4)
    update = {
        "TableName": TABLE,
        "Key": key,
        "UpdateExpression": "SET score = score + :one, extra = :m ADD counts :more",
        "ExpressionAttributeValues": {":one": {"N": "1"}, ":m": {"M": {"b": {"B": b"\x10"}}}, ":more": {"NS": ["7"]}},
    }
    yield "update new", client.update_item(**update, ReturnValues="ALL_NEW")
    yield "update old", client.update_item(**update, ReturnValues="UPDATED_OLD")
    yield "update none", client.update_item(**update, **capacity)
    yield "delete", client.delete_item(TableName=TABLE, Key=key, ReturnValues="ALL_OLD")
    writes = [{"PutRequest": {"Item": _item(n)}} for n in range(10, 14)]
    writes.append({"DeleteRequest": {"Key": {"pk": {"S": "P#2"}, "sk": {"S": "S#002"}}}})
    yield "batch write", client.batch_write_item(RequestItems={TABLE: writes})
    yield (
        "transact get",
        client.transact_get_items(TransactItems=[{"Get": {"TableName": TABLE, "Key": k}} for k in keys]),
    )


def _answers() -> list[tuple[str, Any, Any]]:
    """(name, the answer's JSON as sent, the answer as the SDK parsed it) per request."""
    with mock_aws():
        client = boto3.client(
            "dynamodb", region_name="us-east-1", aws_access_key_id="test", aws_secret_access_key="test"
        )
        sent: list[Any] = []
        client.meta.events.register(
            "after-call.dynamodb", lambda http_response, **_: sent.append(json.loads(http_response.content))
        )
        answers = []
        for name, answer in _requests(client):
            answer.pop("ResponseMetadata", None)
            answers.append((name, sent[-1], answer))
        return answers


@pytest.fixture
def moto_serializes(monkeypatch: pytest.MonkeyPatch) -> set[str]:
    """embedded_moto installed in this process; the names of the operations whose answers
    moto's serializer encoded are collected in the returned set."""
    embedded_moto.install()
    serialized: set[str] = set()
    moto_serializer = ActionResult.execute_result

    def counting(self: ActionResult, context: Any) -> Any:
        serialized.add(context.operation_model.name)
        return moto_serializer(self, context)

    monkeypatch.setattr(ActionResult, "execute_result", counting)
    return serialized


def test_direct_answers_are_what_moto_would_have_answered(
    moto_serializes: set[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    direct = _answers()
    assert not moto_serializes & embedded_moto.DIRECT_ANSWERS, "item answers were encoded directly"
    assert moto_serializes == {"CreateTable", "BatchWriteItem"}  # their answers are not DynamoResults

    monkeypatch.setattr(embedded_moto, "DIRECT_ANSWERS", frozenset())
    by_moto = _answers()
    assert moto_serializes >= {"GetItem", "Query", "BatchGetItem", "UpdateItem", "TransactGetItems"}

    assert [name for name, _, _ in direct] == [name for name, _, _ in by_moto]
    for (name, ours_sent, ours), (_, theirs_sent, theirs) in zip(direct, by_moto, strict=True):
        assert ours_sent == theirs_sent, name  # what a raw reader (the lean data plane) sees
        assert ours == theirs, name
    # The comparison saw the values that are easiest to get wrong.
    got = {name: answer for name, _, answer in direct}["get"]["Item"]
    assert got["blob"]["B"] == BINARY[4:] + BINARY[:4]
    assert got["nested"]["M"]["inner"]["L"][2] == {"B": b"\xff\x00"}
    assert set(got["bins"]["BS"]) == {b"\x00\x01", b"\x04"}


def test_errors_are_still_moto_s(moto_serializes: set[str]) -> None:
    """Errors never take the direct path: the SDK still reads their codes."""
    with mock_aws():
        client = boto3.client(
            "dynamodb", region_name="us-east-1", aws_access_key_id="test", aws_secret_access_key="test"
        )
        with pytest.raises(client.exceptions.ResourceNotFoundException):
            client.get_item(TableName="missing", Key={"pk": {"S": "x"}})
        for _ in _requests(client):
            pass
        with pytest.raises(client.exceptions.ConditionalCheckFailedException):
            client.put_item(TableName=TABLE, Item=_item(1), ConditionExpression="attribute_not_exists(pk)")
