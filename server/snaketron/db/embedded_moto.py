"""What the embedded endpoint changes in moto's DynamoDB, and why.

Both changes keep moto's answers as they are and only remove costs that grow with
everything ever written, which a server left running for an afternoon (or a load
test) pays on every request.

- **Transactions back up only the items they touch.** moto backs up every
  TransactWriteItems by deep-copying each whole table it names, and restores a
  failed one by swapping the copies in. A registration then cost time and memory in
  proportion to the tables: 2,000 registrations took the endpoint from 82 MiB to
  2.8 GiB and each one to 80 ms (benchmarks/bench_endpoint_memory.py). Here the
  transaction snapshots the items its operations name, lets moto run it with the
  tables themselves standing in for their copies, and on failure puts back exactly
  those items: the same all-or-nothing outcome at a cost per item.
- **A query reads its own partition.** moto answers every Query by sorting the whole
  table first, N log N in everything written. A base-table query now reads only its
  partition and an index query filters the table unsorted; moto sorts what matched
  afterwards either way, so results and their order are the same.

Neither is safe under concurrent requests on its own (nor is moto: its backend has
no lock around data): `embedded_server` runs one request at a time.
"""

from __future__ import annotations

import copy
import inspect
from typing import Any

_WHOLE_TABLE = object()


def install() -> None:
    """Apply both changes to moto's classes (in the endpoint's process only)."""
    _transactions_back_up_only_their_items()
    _queries_without_sorting_the_table()


def _transactions_back_up_only_their_items() -> None:
    from moto.dynamodb.models import DynamoDBBackend
    from moto.dynamodb.models.table import Table

    whole_table_transaction = DynamoDBBackend.transact_write_items

    def transact_write_items(self: DynamoDBBackend, transact_items: list[dict[str, Any]]) -> None:
        snapshots = [_snapshot(self, operation) for operation in transact_items]
        # moto deep-copies each table it names as its backup: for the length of this
        # call a table's copy is the table itself, so moto's own restore is a no-op.
        Table.__deepcopy__ = _the_table_itself  # type: ignore[attr-defined]
        try:
            whole_table_transaction(self, transact_items)
        except Exception:
            for snapshot in reversed(snapshots):
                if snapshot is not None:
                    _put_back(self, *snapshot)
            raise
        finally:
            del Table.__deepcopy__  # type: ignore[attr-defined]

    # Patched on purpose (the module docstring says why); mypy refuses assigning to a method.
    DynamoDBBackend.transact_write_items = transact_write_items  # type: ignore[method-assign]


def _the_table_itself(table: Any, memo: dict[int, Any]) -> Any:
    return table


def _snapshot(backend: Any, operation: dict[str, Any]) -> tuple[str, dict[str, Any], dict[str, Any] | None] | None:
    """(table, key, attributes before or None when absent) of one operation's item; None
    when the operation names no item that exists to touch (moto refuses it without writing)."""
    try:
        ((kind, params),) = operation.items()
        table_name = params["TableName"]
        table = backend.tables[table_name]
        if kind == "Put":
            item = params["Item"]
            key = {name: item[name] for name in (table.hash_key_attr, table.range_key_attr) if name is not None}
        else:
            key = params["Key"]
        current = backend.get_item(table_name, key)
    except Exception:  # malformed or unknown: moto answers it with a validation error
        return None
    # Deep: an update may change nested values of the stored item in place.
    return table_name, key, copy.deepcopy(current.to_json()["Attributes"]) if current is not None else None


def _put_back(backend: Any, table_name: str, key: dict[str, Any], attributes: dict[str, Any] | None) -> None:
    if attributes is not None:
        backend.put_item(table_name, attributes)
    elif backend.get_item(table_name, key) is not None:
        backend.delete_item(table_name, key)


def _queries_without_sorting_the_table() -> None:
    from moto.dynamodb.models.table import Table

    sorted_items = Table.all_items
    query = Table.query
    # Where `index_name` sits among the arguments after (self, hash_key): moto passes it by position.
    index_name_at = list(inspect.signature(query).parameters).index("index_name") - 2

    def items_of(table: Table, partition: Any) -> list[Any]:
        return list(partition.values()) if table.range_key_attr else [partition]

    def all_items(self: Table) -> list[Any]:
        scope = getattr(self, "_query_scope", None)
        if scope is None:  # a scan, an export...: pages follow the sorted order
            return sorted_items(self)
        if scope is _WHOLE_TABLE:
            return [item for partition in self.items.values() for item in items_of(self, partition)]
        partition = self.items.get(scope)
        return [] if partition is None else items_of(self, partition)

    def scoped_query(self: Table, hash_key: Any, *args: Any, **kwargs: Any) -> Any:
        # Only the base table keeps items by partition; an index query filters everything.
        index_name = kwargs.get("index_name", args[index_name_at] if len(args) > index_name_at else None)
        # moto offers no hook for this: the scope rides on the table, read by all_items.
        self._query_scope = _WHOLE_TABLE if index_name or hash_key is None else hash_key  # type: ignore[attr-defined]
        try:
            return query(self, hash_key, *args, **kwargs)
        finally:
            self._query_scope = None  # type: ignore[attr-defined]

    Table.all_items = all_items  # type: ignore[method-assign]
    Table.query = scoped_query  # type: ignore[method-assign]
