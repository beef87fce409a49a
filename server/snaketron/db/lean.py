"""The lean data plane: the hot DynamoDB operations without the SDK's request pipeline.

aiobotocore spends ~0.8-1.1 ms of CPU per request (parameter walk and serialisation
per the service model, a dozen event hooks, endpoint rules, signing, the response
parser walking the output shape), a good share of the game server's CPU under load.
DynamoDB's wire format is plain JSON over one POST, so for the item operations of
`LEAN_OPERATIONS` this module builds the request itself:

- the body is the request parameters as they are (the data layer already writes
  DynamoDB JSON, `codec.to_item`), encoded with msgspec (bytes become base64, as the
  SDK sends blobs);
- it is signed with SigV4 (`sigv4.SigV4Signer`, held to botocore's `SigV4Auth` by
  its tests) with the credentials and region that the SDK client resolved, and sent
  to the SDK client's endpoint URL, so both paths follow one configuration
  (AWS_ENDPOINT_URL_DYNAMODB, LocalStack, AWS);
- it goes over kept-alive connections of `http1.Http1Pool` with the SDK client's
  limits (pool size, connect and read timeouts, keep-alive);
- the answer is decoded with msgspec; blobs ("B", "BS") are turned back into bytes
  the way the SDK's parser does, only when the body has any.

A failure is raised as the SDK raises it (a botocore `ClientError` with the same
`Error`, `ResponseMetadata` and `CancellationReasons`, or the connection's own
exception), so `client.map_sdk_error` classifies both paths in one place and the
retry policy of `DynamoClient.call` treats them alike.
"""

from __future__ import annotations

import base64
import ssl
import zlib
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit
from urllib.request import getproxies, proxy_bypass

import msgspec
from botocore.exceptions import ChecksumError, ClientError, NoCredentialsError, NoRegionError
from botocore.httpsession import get_cert_path

from snaketron.db.http1 import Http1Pool
from snaketron.db.sigv4 import SigV4Signer, canonical_host

# botocore method name -> DynamoDB API action.
LEAN_OPERATIONS: Mapping[str, str] = {
    "get_item": "GetItem",
    "put_item": "PutItem",
    "update_item": "UpdateItem",
    "delete_item": "DeleteItem",
    "query": "Query",
    "batch_get_item": "BatchGetItem",
    "batch_write_item": "BatchWriteItem",
    "transact_write_items": "TransactWriteItems",
    "transact_get_items": "TransactGetItems",
}

_TARGET_PREFIX = "DynamoDB_20120810."

_encode = msgspec.json.Encoder().encode
_decode = msgspec.json.Decoder().decode


def serves(endpoint_url: str) -> bool:
    """Whether the lean path can send to `endpoint_url`: its signer signs POSTs to
    "/" (DynamoDB, LocalStack and the embedded endpoint all listen there) and its
    client connects directly. An endpoint behind a path prefix, with a query, or
    reached through an HTTP proxy (HTTP(S)_PROXY, NO_PROXY) stays on the SDK."""
    parts = urlsplit(endpoint_url)
    if parts.scheme not in ("http", "https") or parts.path not in ("", "/") or parts.query:
        return False
    return not (getproxies().get(parts.scheme) and not proxy_bypass(parts.hostname or ""))


class LeanTransport:
    """Sends the `LEAN_OPERATIONS` of one `DynamoClient`. `start()` takes the SDK
    client whose endpoint, region and credentials it follows."""

    def __init__(self, *, connect_timeout: float, read_timeout: float, max_pool: int) -> None:
        self._connect_timeout = connect_timeout
        self._read_timeout = read_timeout
        self._max_pool = max_pool
        self._pool: Http1Pool | None = None
        self._credentials: Any = None
        self._signer: SigV4Signer | None = None
        self._request_line = b""

    async def start(self, sdk_client: Any, *, ca_bundle: str | None = None) -> None:
        """Follow `sdk_client`'s endpoint, region and credentials; `ca_bundle` is the
        SDK's (AWS_CA_BUNDLE or the profile's), else the CA bundle botocore uses."""
        meta = sdk_client.meta
        url: str = meta.endpoint_url
        self._signer = SigV4Signer(url, meta.region_name) if meta.region_name else None
        # The SDK's resolved credentials (explicit keys, environment, profile, role...),
        # refreshed by the SDK's own provider when they are temporary.
        self._credentials = sdk_client._request_signer._credentials
        context = None
        if url.startswith("https:"):
            context = ssl.create_default_context(cafile=ca_bundle or get_cert_path(True))
        # The Host header is the host the signature covers.
        self._request_line = f"POST / HTTP/1.1\r\nHost: {canonical_host(url)}\r\n".encode()
        self._pool = Http1Pool(
            url,
            connect_timeout=self._connect_timeout,
            read_timeout=self._read_timeout,
            max_connections=self._max_pool,
            ssl_context=context,
        )

    async def close(self) -> None:
        pool, self._pool = self._pool, None
        if pool is not None:
            await pool.close()

    async def _headers(self, body: bytes, target: str) -> dict[str, str]:
        if self._credentials is None:
            raise NoCredentialsError()
        if self._signer is None:
            raise NoRegionError()
        frozen = await self._credentials.get_frozen_credentials()
        return self._signer.headers(body, target, frozen)

    async def send(self, operation: str, params: Mapping[str, Any]) -> dict[str, Any]:
        """One attempt of `operation`; the parsed answer, or the SDK's exception."""
        pool = self._pool
        if pool is None:
            raise ConnectionResetError("lean transport is closed")
        action = LEAN_OPERATIONS[operation]
        body = _encode(params)
        headers = await self._headers(body, _TARGET_PREFIX + action)
        head = self._request_line + f"Content-Length: {len(body)}\r\n".encode()
        head += "".join(f"{name}: {value}\r\n" for name, value in headers.items()).encode() + b"\r\n"
        status, answer_headers, raw = await pool.post(head, body)
        # DynamoDB checksums every answer; the SDK refuses a body cut short or garbled.
        crc = answer_headers.get("x-amz-crc32")
        if crc is not None and crc.isdigit() and int(crc) != zlib.crc32(raw):
            raise ChecksumError(checksum_type="crc32", expected_checksum=crc, actual_checksum=str(zlib.crc32(raw)))
        if status == 200:
            parsed: dict[str, Any] = _decode(raw) if raw else {}
            if b'"B"' in raw or b'"BS"' in raw:
                _blobs_to_bytes(parsed)
            return parsed
        raise _client_error(action, status, raw, answer_headers.get("x-amzn-errortype", ""))


def _client_error(action: str, status: int, raw: bytes, error_type: str) -> ClientError:
    """The SDK's ClientError for an error answer (botocore's JSON protocol parser's shape)."""
    try:
        payload = _decode(raw) if raw else {}
    except msgspec.DecodeError:
        payload = {}
    if not isinstance(payload, dict):
        payload = {}
    code = str(payload.get("__type") or error_type.partition(":")[0] or "")
    code = code.rpartition("#")[2]
    message = str(payload.get("message") or payload.get("Message") or "")
    if not code and not message and raw:
        message = raw[:200].decode("utf-8", "replace")
    error: dict[str, Any] = {
        "Error": {"Code": code or str(status), "Message": message},
        "ResponseMetadata": {"HTTPStatusCode": status},
    }
    reasons = payload.get("CancellationReasons")
    if isinstance(reasons, list):
        for reason in reasons:
            if isinstance(reason, dict) and isinstance(reason.get("Item"), dict):
                _item_blobs(reason["Item"])
        error["CancellationReasons"] = reasons
    return ClientError(error, action)  # type: ignore[arg-type]


def _blobs_to_bytes(parsed: dict[str, Any]) -> None:
    """Decode the base64 blobs of every item a hot operation's answer can hold, in place."""
    for name in ("Item", "Attributes", "LastEvaluatedKey"):
        item = parsed.get(name)
        if isinstance(item, dict):
            _item_blobs(item)
    for item in parsed.get("Items", ()):
        _item_blobs(item)
    responses = parsed.get("Responses")
    if isinstance(responses, dict):  # BatchGetItem: table -> items
        for items in responses.values():
            for item in items:
                _item_blobs(item)
    elif isinstance(responses, list):  # TransactGetItems: [{"Item": ...}]
        for entry in responses:
            if isinstance(entry.get("Item"), dict):
                _item_blobs(entry["Item"])
    for requests in (parsed.get("UnprocessedItems") or {}).values():
        for request in requests:
            for kind, member in (("PutRequest", "Item"), ("DeleteRequest", "Key")):
                inner = request.get(kind)
                if inner is not None:
                    _item_blobs(inner[member])
    for keys in (parsed.get("UnprocessedKeys") or {}).values():
        for key in keys.get("Keys", ()):
            _item_blobs(key)


def _item_blobs(item: dict[str, Any]) -> None:
    for name, value in item.items():
        item[name] = _value_blobs(value)


def _value_blobs(value: dict[str, Any]) -> dict[str, Any]:
    if "B" in value:
        return {"B": _b64(value["B"])}
    if "BS" in value:
        return {"BS": [_b64(v) for v in value["BS"]]}
    if "M" in value:
        _item_blobs(value["M"])
    elif "L" in value:
        value["L"] = [_value_blobs(v) for v in value["L"]]
    return value


def _b64(text: str) -> bytes:
    return base64.b64decode(text)


__all__ = ["LEAN_OPERATIONS", "LeanTransport", "serves"]
