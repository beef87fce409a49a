"""Queries on the embedded endpoint answer as DynamoDB does, although it no longer
sorts the whole table for each one (embedded_moto._queries_without_sorting_the_table):
a base-table query returns exactly its partition in sort-key order, either way and
page by page; an index query returns exactly the items with that index key, in the
index's sort order; a scan still pages through everything."""

from __future__ import annotations

import random

from snaketron.db.client import DynamoClient
from snaketron.db.codec import from_item, to_item
from snaketron.db.tables import TableNames

PARTITIONS = 12
ITEMS = 240


def _items() -> list[dict[str, str]]:
    rng = random.Random(7)
    items = []
    for n in range(ITEMS):
        partition = rng.randrange(PARTITIONS)
        items.append(
            {
                "pk": f"P#{partition:02d}",
                "sk": f"S#{rng.randrange(10**6):06d}#{n}",
                "gsi1pk": f"G#{n % 3}",
                "gsi1sk": f"{rng.randrange(10**6):06d}#{n}",
            }
        )
    rng.shuffle(items)
    return items


async def _read_all(client: DynamoClient, operation: str, **params: object) -> list[dict]:
    """Every page of a query or a scan, following LastEvaluatedKey."""
    found, start = [], None
    while True:
        page = await client.call(operation, **params, **({"ExclusiveStartKey": start} if start else {}))
        found += [from_item(item) for item in page["Items"]]
        start = page.get("LastEvaluatedKey")
        if not start:
            return found


async def test_queries_return_their_partition_or_index_key_in_order(settings):
    tables = TableNames.for_prefix(settings.table_prefix)
    items = _items()
    async with DynamoClient(settings) as client:
        for item in items:
            await client.call("put_item", TableName=tables.main, Item=to_item(item))

        for partition in (0, 5, PARTITIONS - 1, PARTITIONS + 3):  # the last one is empty
            pk = f"P#{partition:02d}"
            expected = sorted((i for i in items if i["pk"] == pk), key=lambda i: i["sk"])
            key = {"KeyConditionExpression": "pk = :pk", "ExpressionAttributeValues": to_item({":pk": pk})}
            forward = await _read_all(client, "query", TableName=tables.main, Limit=4, **key)
            backward = await _read_all(client, "query", TableName=tables.main, ScanIndexForward=False, **key)
            assert [i["sk"] for i in forward] == [i["sk"] for i in expected]
            assert [i["sk"] for i in backward] == [i["sk"] for i in reversed(expected)]

        between = await _read_all(
            client,
            "query",
            TableName=tables.main,
            KeyConditionExpression="pk = :pk AND sk BETWEEN :low AND :high",
            ExpressionAttributeValues=to_item({":pk": "P#03", ":low": "S#2", ":high": "S#7"}),
        )
        assert [i["sk"] for i in between] == sorted(
            i["sk"] for i in items if i["pk"] == "P#03" and "S#2" <= i["sk"] <= "S#7"
        )

        index = await _read_all(
            client,
            "query",
            TableName=tables.main,
            IndexName="GSI1",
            Limit=7,
            KeyConditionExpression="gsi1pk = :g",
            ExpressionAttributeValues=to_item({":g": "G#1"}),
        )
        assert [i["gsi1sk"] for i in index] == sorted(i["gsi1sk"] for i in items if i["gsi1pk"] == "G#1")

        scanned = [i["sk"] for i in await _read_all(client, "scan", TableName=tables.main, Limit=50)]
        assert sorted(scanned) == sorted(i["sk"] for i in items)
        assert len(scanned) == len(set(scanned))


async def test_an_index_with_a_number_key_matches_numbers_as_numbers(settings):
    """ "1", "1.0" and "01" are one number to DynamoDB (and to moto's own filter): an index
    query finds them all, as a filtered scan does, and nothing else."""
    table = f"{settings.table_prefix}-numbers"
    async with DynamoClient(settings) as client:
        await client.call(
            "create_table",
            TableName=table,
            KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
            AttributeDefinitions=[
                {"AttributeName": "pk", "AttributeType": "S"},
                {"AttributeName": "n", "AttributeType": "N"},
            ],
            GlobalSecondaryIndexes=[
                {
                    "IndexName": "ByN",
                    "KeySchema": [{"AttributeName": "n", "KeyType": "HASH"}],
                    "Projection": {"ProjectionType": "ALL"},
                }
            ],
            BillingMode="PAY_PER_REQUEST",
        )
        try:
            for pk, n in (("a", "1"), ("b", "1.0"), ("c", "1.50"), ("d", "01"), ("e", "-0"), ("f", "0.00")):
                await client.call("put_item", TableName=table, Item={"pk": {"S": pk}, "n": {"N": n}})
            for wanted, expected in (("1", ["a", "b", "d"]), ("1.5", ["c"]), ("0", ["e", "f"]), ("2", [])):
                values = {":n": {"N": wanted}}
                found = await _read_all(
                    client,
                    "query",
                    TableName=table,
                    IndexName="ByN",
                    KeyConditionExpression="n = :n",
                    ExpressionAttributeValues=values,
                )
                scanned = await _read_all(
                    client, "scan", TableName=table, FilterExpression="n = :n", ExpressionAttributeValues=values
                )
                assert sorted(i["pk"] for i in found) == sorted(i["pk"] for i in scanned) == expected, wanted
        finally:
            await client.call("delete_table", TableName=table)
