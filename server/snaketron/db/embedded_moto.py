"""What the embedded endpoint changes in moto's DynamoDB, and why.

Every change keeps moto's answers as they are and only removes costs: costs that
grow with everything ever written, which a server left running for an afternoon
(or a load test) pays on every request, and costs per request, which limit how many
requests a second the endpoint answers (moto answers one at a time).

- **Transactions back up only the items they touch.** moto backs up every
  TransactWriteItems by deep-copying each whole table it names, and restores a
  failed one by swapping the copies in. A registration then cost time and memory in
  proportion to the tables: 2,000 registrations took the endpoint from 82 MiB to
  2.8 GiB and each one to 80 ms (benchmarks/bench_endpoint_memory.py). Here the
  transaction snapshots the items its operations name, lets moto run it with the
  tables themselves standing in for their copies, and on failure puts back exactly
  those items: the same all-or-nothing outcome at a cost per item. moto checks each
  operation's condition and then had put_item/update_item/delete_item parse and
  check it again on the same item; they are handed no condition here.
- **A query reads its own partition.** moto answers every Query by sorting the whole
  table first, N log N in everything written. A base-table query now reads only its
  partition; an index query picks the items with its index key by a plain comparison
  (moto's own filter cost about a microsecond per item of the table: the matcher's
  queue query took 270 ms with 20,000 items written). moto sorts what matched
  afterwards either way, so results and their order are the same.
- **Item answers are encoded directly.** moto turns each answer into Python values
  (binary decoded) and then walks the operation's botocore shapes to encode them
  again: half of a GetItem's CPU. Answers of the item operations are DynamoDB JSON
  already and are encoded with msgspec as they are; anything else, and every error,
  still goes through moto's serializer. (One difference, on DynamoDB's side: binary
  keys in a BatchGetItem's UnprocessedKeys go out as received; moto's serializer
  base64-encodes them a second time.)
- **Update expressions are parsed once**, and the handler's methods listed once:
  moto parses an update expression twice per update (the same few expressions come
  back all the time), and lists its handler class's methods on every request. The
  validator's copy of a parsed tree is made node by node rather than by
  `copy.deepcopy`, and its passes look up which node classes they handle once per
  pass class, not at every node.

Measured with benchmarks/bench_endpoint.py (benchmarks/RESULTS.md, "Embedded
endpoint"). None is safe under concurrent requests on its own (nor is moto: its
backend has no lock around data): `embedded_server` runs one request at a time.
"""

from __future__ import annotations

import functools
import inspect
from typing import Any, NamedTuple

_WHOLE_TABLE = object()


_installed = False


def install() -> None:
    """Apply the changes to moto's classes (in the endpoint's process; once)."""
    global _installed
    if _installed:
        return
    _installed = True
    _transactions_back_up_only_their_items()
    _queries_without_sorting_the_table()
    _item_answers_encoded_directly()
    _update_expressions_parsed_once()
    _update_expressions_validated_cheaply()
    _handler_methods_listed_once()


def _transactions_back_up_only_their_items() -> None:
    from moto.dynamodb.models import DynamoDBBackend
    from moto.dynamodb.models.table import Table

    whole_table_transaction = DynamoDBBackend.transact_write_items

    def transact_write_items(self: DynamoDBBackend, transact_items: list[dict[str, Any]]) -> None:
        snapshots = [_snapshot(self, operation) for operation in transact_items]
        # moto deep-copies each table it names as its backup: for the length of this
        # call a table's copy is the table itself, so moto's own restore is a no-op.
        Table.__deepcopy__ = _the_table_itself  # type: ignore[attr-defined]
        # moto checks each operation's condition on the current item, then hands the
        # operation to put_item/update_item/delete_item, which parsed and checked the
        # same condition on the same item again (nothing runs in between, and an item
        # appears once per transaction): they get no condition here.
        for name in ("put_item", "update_item", "delete_item"):
            setattr(self, name, _unconditional(getattr(DynamoDBBackend, name), self))
        try:
            whole_table_transaction(self, transact_items)
        except Exception:
            for snapshot in reversed(snapshots):
                if snapshot is not None:
                    _put_back(self, *snapshot)
            raise
        finally:
            del Table.__deepcopy__  # type: ignore[attr-defined]
            for name in ("put_item", "update_item", "delete_item"):
                delattr(self, name)

    # Patched on purpose (the module docstring says why); mypy refuses assigning to a method.
    DynamoDBBackend.transact_write_items = transact_write_items  # type: ignore[method-assign]


def _unconditional(method: Any, backend: Any) -> Any:
    def call(*args: Any, **kwargs: Any) -> Any:
        return method(backend, *args, **{**kwargs, "condition_expression": None})

    return call


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
    # to_json builds new containers all the way down to the (immutable) strings, so an
    # update that changes the stored item in place leaves this copy as it was.
    return table_name, key, current.to_json()["Attributes"] if current is not None else None


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
        if isinstance(scope, _IndexKey):
            # Only the items whose index key matches, found with a plain comparison each:
            # moto's own filter costs about a microsecond per item of the whole table.
            # Numbers compare as numbers ("1" equals "1.0"), as moto and DynamoDB do.
            kind, value, key = scope.value.type, scope.value.value, scope.value
            return [
                item
                for partition in self.items.values()
                for item in items_of(self, partition)
                if (found := item.attrs.get(scope.attribute)) is not None
                and found.type == kind
                and (found.value == value if kind != "N" else found == key)
            ]
        partition = self.items.get(scope)
        return [] if partition is None else items_of(self, partition)

    def scoped_query(self: Table, hash_key: Any, *args: Any, **kwargs: Any) -> Any:
        # Only the base table keeps items by partition; an index query filters everything.
        index_name = kwargs.get("index_name", args[index_name_at] if len(args) > index_name_at else None)
        # moto offers no hook for this: the scope rides on the table, read by all_items.
        if index_name:
            scope: Any = _index_key(self, index_name, hash_key, kwargs.get("hash_key_conditions"))
        else:
            scope = _WHOLE_TABLE if hash_key is None else hash_key
        self._query_scope = scope  # type: ignore[attr-defined]
        try:
            return query(self, hash_key, *args, **kwargs)
        finally:
            self._query_scope = None  # type: ignore[attr-defined]

    Table.all_items = all_items  # type: ignore[method-assign]
    Table.query = scoped_query  # type: ignore[method-assign]


class _IndexKey(NamedTuple):
    """An index query's scope: the items whose `attribute` equals `value` (a DynamoType)."""

    attribute: str
    value: Any


def _index_key(table: Any, index_name: str, hash_key: Any, hash_key_conditions: Any) -> Any:
    """The scope of a query of `index_name`: its one hash key attribute and value, or
    the whole table when that is not so simple (moto then filters, as before)."""
    try:
        index = table.get_index(index_name)
    except KeyError:
        return _WHOLE_TABLE  # moto answers with a validation error
    hashes = [key["AttributeName"] for key in index.schema if key["KeyType"] == "HASH"]
    if hash_key_conditions:
        if len(hash_key_conditions) != 1 or len(hashes) != 1:
            return _WHOLE_TABLE
        ((attribute, value),) = hash_key_conditions
        return _IndexKey(attribute, value) if attribute == hashes[0] else _WHOLE_TABLE
    if hash_key is None or len(hashes) != 1:
        return _WHOLE_TABLE
    return _IndexKey(hashes[0], hash_key)


# Operations whose answers are items and counts: plain DynamoDB JSON, which the stored
# DynamoTypes already are.
DIRECT_ANSWERS = frozenset(
    {
        "GetItem",
        "BatchGetItem",
        "Query",
        "Scan",
        "PutItem",
        "UpdateItem",
        "DeleteItem",
        "TransactGetItems",
    }
)


class _NotPlain(Exception):
    """An answer holds something other than DynamoDB JSON: moto's serializer takes it."""


def _item_answers_encoded_directly() -> None:
    import msgspec
    from moto.core.responses import ActionResult
    from moto.dynamodb.models.dynamo_type import DynamoType
    from moto.dynamodb.models.utilities import dynamo_to_dict
    from moto.dynamodb.responses import DynamoResult

    def plain(value: Any) -> Any:
        if isinstance(value, DynamoType):
            return {value.type: value.value}  # msgspec writes bytes (a projected B) as base64
        raise _NotPlain(type(value).__name__)

    encoder = msgspec.json.Encoder(enc_hook=plain)

    def keep_raw(self: Any, result: object) -> None:
        # moto converts the whole answer up front (B values decoded to bytes, for its
        # serializer to encode again); that waits until the serializer really needs it.
        ActionResult.__init__(self, result)

    def execute_result(self: Any, context: Any) -> Any:
        operation = context.operation_model
        answer = self._result
        if operation.name in DIRECT_ANSWERS and isinstance(answer, dict):
            members = operation.output_shape.members if operation.output_shape is not None else {}
            try:
                # Only the operation's own members, as moto's serializer keeps (moto adds
                # e.g. ConsumedCapacityUnits, which the SDK drops but a raw reader sees).
                body = encoder.encode({k: v for k, v in answer.items() if k in members and v is not None})
            except _NotPlain:
                pass
            else:
                return 200, {"Content-Type": "application/x-amz-json-1.0"}, body.decode()
        self._result = dynamo_to_dict(answer)
        return ActionResult.execute_result(self, context)

    DynamoResult.__init__ = keep_raw  # type: ignore[method-assign]
    DynamoResult.execute_result = execute_result  # type: ignore[method-assign]


def _update_expressions_parsed_once() -> None:
    from moto.dynamodb.parsing.expressions import UpdateExpressionParser  # type: ignore[attr-defined]

    parse = UpdateExpressionParser.make
    # The same few update expressions come back all the time (only their values differ),
    # and moto parses each twice per update. Sharing the tree is safe: moto reads it, and
    # its validator works on a deep copy.
    UpdateExpressionParser.make = functools.lru_cache(maxsize=1024)(parse)


def _update_expressions_validated_cheaply() -> None:
    import copy

    from moto.dynamodb.parsing import validators
    from moto.dynamodb.parsing.ast_nodes import DepthFirstTraverser, Node  # type: ignore[attr-defined]

    # moto's validator deep-copies the parsed tree of every update before replacing its
    # placeholders: copy.deepcopy's generic walk was about 8% of the endpoint under
    # matchmaking. A parsed tree is nodes whose children are nodes or plain values
    # (names, indexes), linked to their parents: copied node by node here; anything
    # else (a value deep-copied mid-evaluation) still goes through deepcopy.
    def copy_tree(node: Any, parent: Any) -> Any:
        twin = object.__new__(type(node))
        twin.__dict__.update(node.__dict__)
        twin.parent = parent
        if node.children is not None:
            twin.children = [
                copy_tree(child, twin)
                if isinstance(child, Node)
                else child
                if child is None or isinstance(child, (str, int, float))
                else copy.deepcopy(child)
                for child in node.children
            ]
        return twin

    def deepcopy(value: Any, memo: Any = None) -> Any:
        if type(value).__dict__.get("__deepcopy__") is None and isinstance(value, Node) and value.parent is None:
            return copy_tree(value, None)
        return copy.deepcopy(value, memo)

    validators.deepcopy = deepcopy  # type: ignore[assignment]

    # Each of the validator's ten passes asked its map of node classes to handlers for
    # its keys at every node of the tree, building the map each time; the keys are
    # fixed per pass class.
    keys_of: dict[type, tuple[type, ...]] = {}

    def nodes_to_be_processed(self: Any) -> tuple[type, ...]:
        keys = keys_of.get(type(self))
        if keys is None:
            keys = keys_of[type(self)] = tuple(self._processing_map())
        return keys

    DepthFirstTraverser.nodes_to_be_processed = nodes_to_be_processed


def _handler_methods_listed_once() -> None:
    from moto.core import responses

    list_methods = responses.method_names_from_class

    # moto lists the handler class's methods (inspect.getmembers) on every request to
    # check that the action exists: 13% of a GetItem. The classes do not change.
    @functools.cache
    def listed(handler_class: object) -> frozenset[str]:
        return frozenset(list_methods(handler_class))

    responses.method_names_from_class = listed  # type: ignore[assignment]
