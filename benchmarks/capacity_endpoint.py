"""The capacity benchmark's DynamoDB endpoint: the embedded one (moto), with cheap
transactions.

moto backs every TransactWriteItems up by deep-copying each whole table it
touches, so a transaction costs time in proportion to the table: with a thousand
bot accounts, lobby creation (one transaction per game) and authentication
(queued behind it on the endpoint's one lock) time out during a ramp, and the
benchmark measured moto instead of the game server. Here a transaction backs up
only the items it touches and puts them back if it fails: the same all-or-nothing
outcome, at a cost per item. Everything else is `snaketron.db.embedded_server`.

    python benchmarks/capacity_endpoint.py    # prints PORT <n>, serves until stdin closes
"""

from __future__ import annotations

import copy
from typing import Any


def _key_of(table: Any, op_type: str, op: dict[str, Any]) -> dict[str, Any]:
    if op_type != "Put":
        return op["Key"]
    attrs = op["Item"]
    key = {table.hash_key_attr: attrs[table.hash_key_attr]}
    if table.range_key_attr is not None:
        key[table.range_key_attr] = attrs[table.range_key_attr]
    return key


def install_item_level_rollback() -> None:
    from moto.dynamodb import models
    from moto.dynamodb.models import DynamoDBBackend
    from moto.dynamodb.models.table import Table

    whole_table_transact = DynamoDBBackend.transact_write_items

    class TablesAreNotCopied:
        """Stands in for the `copy` module inside moto's models: a table is 'copied' as
        itself (its restore is then a no-op), anything else really is."""

        @staticmethod
        def deepcopy(value: Any, memo: Any = None) -> Any:
            return value if isinstance(value, Table) else copy.deepcopy(value, memo)

        copy = staticmethod(copy.copy)

    def transact_write_items(self: DynamoDBBackend, transact_items: list[dict[str, Any]]) -> None:
        before: list[tuple[str, dict[str, Any], dict[str, Any] | None]] = []
        for item in transact_items:
            op_type, op = next(iter(item.items()))
            table_name = op.get("TableName")
            if table_name not in self.tables:
                continue
            key = _key_of(self.tables[table_name], op_type, op)
            current = self.get_item(table_name, key)
            before.append((table_name, key, copy.deepcopy(current.to_json()["Attributes"]) if current else None))
        models.copy = TablesAreNotCopied
        try:
            return whole_table_transact(self, transact_items)
        except Exception:
            for table_name, key, attrs in reversed(before):
                if attrs is None:
                    if self.get_item(table_name, key) is not None:
                        self.delete_item(table_name, key)
                else:
                    self.put_item(table_name, attrs)
            raise
        finally:
            models.copy = copy

    DynamoDBBackend.transact_write_items = transact_write_items


if __name__ == "__main__":
    from snaketron.db import embedded_server

    install_item_level_rollback()
    embedded_server.main()
