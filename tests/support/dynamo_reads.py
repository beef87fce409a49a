"""Reads for assertions: what is really in a table, straight from the endpoint."""

from __future__ import annotations

from typing import Any

from snaketron.db.codec import from_item
from snaketron.db.dynamo import DynamoDatabase


async def items_with_pk(db: DynamoDatabase, pk: str) -> list[dict[str, Any]]:
    """Every item of the main table under partition key `pk` (all pages), decoded."""
    found: list[dict[str, Any]] = []
    params: dict[str, Any] = {
        "TableName": db.tables.main,
        "KeyConditionExpression": "pk = :pk",
        "ExpressionAttributeValues": {":pk": {"S": pk}},
        "ConsistentRead": True,
    }
    while True:
        response = await db.client.call("query", **params)
        found.extend(from_item(i) for i in response["Items"])
        if "LastEvaluatedKey" not in response:
            return found
        params["ExclusiveStartKey"] = response["LastEvaluatedKey"]
