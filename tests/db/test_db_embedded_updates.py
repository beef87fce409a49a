"""The embedded endpoint validates update expressions more cheaply (embedded_moto: the
parsed tree copied node by node, each pass's node classes looked up once): every kind
of update, and every error moto raises for one, comes out as with moto's own
`copy.deepcopy` and per-node lookups.

moto runs in this process (its in-process mock) with the endpoint's changes
installed; the same requests run once as installed and once with moto's own copy and
lookups put back, and the items and errors are compared."""

from __future__ import annotations

import copy
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from moto import mock_aws
from moto.dynamodb.parsing import validators
from moto.dynamodb.parsing.ast_nodes import DepthFirstTraverser
from moto.dynamodb.parsing.expressions import UpdateExpressionParser

from snaketron.db import embedded_moto

TABLE = "updates"
KEY = {"pk": {"S": "P"}, "sk": {"S": "S"}}

# (update expression, names, values, condition): each runs on the item as the ones
# before it left it.
UPDATES: list[tuple[str, dict[str, str], dict[str, Any], str | None]] = [
    ("ADD #count :d", {"#count": "count"}, {":d": {"N": "1"}}, None),
    ("ADD #count :d", {"#count": "count"}, {":d": {"N": "-3"}}, None),
    (
        "SET #n0 = :v0, #n1 = :v1, #n2 = :v2, #n3 = :v3",
        {"#n0": "mmr", "#n1": "ratingMu", "#n2": "ratingSigma", "#n3": "gamesPlayed"},
        {":v0": {"N": "1016"}, ":v1": {"N": "25.5"}, ":v2": {"N": "8.1"}, ":v3": {"N": "1"}},
        "attribute_not_exists(#n3) OR #n3 = :before",
    ),
    (
        "SET #l = list_append(if_not_exists(#l, :empty), :more)",
        {"#l": "l"},
        {":empty": {"L": []}, ":more": {"L": [{"S": "a"}, {"N": "2"}]}},
        None,
    ),
    ("SET #l = list_append(#l, :more)", {"#l": "l"}, {":more": {"L": [{"M": {"x": {"S": "y"}}}]}}, None),
    ("SET #m = :m", {"#m": "m"}, {":m": {"M": {"k": {"N": "1"}, "deep": {"M": {"z": {"L": [{"N": "5"}]}}}}}}, None),
    (
        "SET #m.#k = #m.#k + :one, #m.deep.z[0] = :zero",
        {"#m": "m", "#k": "k"},
        {":one": {"N": "1"}, ":zero": {"N": "0"}},
        None,
    ),
    (
        "SET #a = :x - #count, #b = if_not_exists(#b, :x)",
        {"#a": "a", "#b": "b", "#count": "count"},
        {":x": {"N": "10"}},
        None,
    ),
    ("ADD #s :s", {"#s": "tags"}, {":s": {"SS": ["red", "blue"]}}, None),
    ("DELETE #s :s", {"#s": "tags"}, {":s": {"SS": ["red"]}}, None),
    ("REMOVE #l[0], #b", {"#l": "l", "#b": "b"}, {}, None),
    (
        "SET #blob = :b, #nothing = :n, #ok = :t",
        {"#blob": "blob", "#nothing": "nothing", "#ok": "ok"},
        {":b": {"B": b"\x00\xff"}, ":n": {"NULL": True}, ":t": {"BOOL": True}},
        None,
    ),
    # Each of these is refused, and must be refused with moto's own error:
    ("SET #a = :v, #a = :w", {"#a": "a"}, {":v": {"N": "1"}, ":w": {"N": "2"}}, None),  # overlapping paths
    ("SET #pk = :v", {"#pk": "pk"}, {":v": {"S": "other"}}, None),  # a key attribute
    ("ADD #a :s", {"#a": "a"}, {":s": {"S": "text"}}, None),  # ADD of a string
    ("SET #a = #missing + :v", {"#a": "a", "#missing": "missing"}, {":v": {"N": "1"}}, None),  # no such path
    ("SET #a = :v", {"#a": "a"}, {":w": {"N": "1"}}, None),  # a value never used
    ("SET #count = :v", {"#count": "count"}, {":v": {"N": "7"}, ":before": {"N": "99"}}, "#count = :before"),  # fails
]


def _run() -> list[Any]:
    """Every update in turn, then a transaction of two; what each left or raised."""
    with mock_aws():
        client = boto3.client("dynamodb", region_name="us-east-1")
        client.create_table(
            TableName=TABLE,
            KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
            AttributeDefinitions=[
                {"AttributeName": "pk", "AttributeType": "S"},
                {"AttributeName": "sk", "AttributeType": "S"},
            ],
            BillingMode="PAY_PER_REQUEST",
        )
        seen: list[Any] = []
        for expression, names, values, condition in UPDATES:
            request: dict[str, Any] = {
                "TableName": TABLE,
                "Key": KEY,
                "UpdateExpression": expression,
                "ExpressionAttributeNames": names,
            }
            if values:
                request["ExpressionAttributeValues"] = dict(values)
            if condition is not None:
                request["ConditionExpression"] = condition
                if ":before" in condition and ":before" not in values:
                    request["ExpressionAttributeValues"] = {**values, ":before": {"N": "0"}}
            try:
                seen.append(client.update_item(ReturnValues="ALL_NEW", **request)["Attributes"])
            except ClientError as exc:
                seen.append((exc.response["Error"]["Code"], exc.response["Error"]["Message"]))
        transaction = [
            {
                "Update": {
                    "TableName": TABLE,
                    "Key": KEY,
                    "UpdateExpression": "ADD #count :d",
                    "ExpressionAttributeNames": {"#count": "count"},
                    "ExpressionAttributeValues": {":d": {"N": "5"}},
                }
            },
            {
                "Update": {
                    "TableName": TABLE,
                    "Key": {"pk": {"S": "Q"}, "sk": {"S": "S"}},
                    "UpdateExpression": "SET #x = :x",
                    "ConditionExpression": "attribute_not_exists(pk)",
                    "ExpressionAttributeNames": {"#x": "x"},
                    "ExpressionAttributeValues": {":x": {"S": "new"}},
                }
            },
        ]
        client.transact_write_items(TransactItems=transaction)
        seen.append(sorted(client.scan(TableName=TABLE)["Items"], key=lambda item: item["pk"]["S"]))
        return seen


@pytest.fixture
def installed() -> None:
    embedded_moto.install()


def test_updates_and_their_errors_are_moto_s_own(installed: None, monkeypatch: pytest.MonkeyPatch) -> None:
    assert validators.deepcopy is not copy.deepcopy, "the endpoint's copy is installed"
    cheap_copy, cheap_lookup = validators.deepcopy, DepthFirstTraverser.nodes_to_be_processed
    # moto's own first, each run from freshly parsed trees: a change that damaged a cached
    # tree could not hide behind the other run's parse.
    monkeypatch.setattr(validators, "deepcopy", copy.deepcopy)
    monkeypatch.setattr(DepthFirstTraverser, "nodes_to_be_processed", lambda self: tuple(self._processing_map()))
    UpdateExpressionParser.make.cache_clear()
    stock = _run()
    monkeypatch.setattr(validators, "deepcopy", cheap_copy)
    monkeypatch.setattr(DepthFirstTraverser, "nodes_to_be_processed", cheap_lookup)
    UpdateExpressionParser.make.cache_clear()
    cheaply = _run()
    assert cheaply == stock
    refused = [answer for answer in stock if isinstance(answer, tuple)]
    assert len(refused) == 6, refused  # every refusal above was one, so the errors were compared
    assert all(isinstance(answer, dict) for answer in stock[: len(UPDATES) - 6])
    assert stock[-1][0]["count"] == {"N": "3"} and stock[-1][1]["x"] == {"S": "new"}
