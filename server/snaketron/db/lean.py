"""The lean data plane: the hot DynamoDB operations without the SDK's request pipeline.

aiobotocore spends ~0.8-1.1 ms of CPU per request (parameter walk and serialisation
per the service model, a dozen event hooks, endpoint rules, signing, the response
parser walking the output shape), a good share of the game server's CPU under load.
DynamoDB's wire format is plain JSON over one POST, so for the item operations of
`LEAN_OPERATIONS` this module builds the request itself:

- the body is the request parameters as they are (the data layer already writes
  DynamoDB JSON, `codec.to_item`), encoded with msgspec (bytes become base64, as the
  SDK sends blobs);
- it is signed by botocore's own SigV4 signer (`SigV4Auth`) with the credentials and
  region that the SDK client resolved, and sent to the SDK client's endpoint URL, so
  both paths follow one configuration (AWS_ENDPOINT_URL_DYNAMODB, LocalStack, AWS);
- it goes over an aiohttp session with the SDK client's limits (pool size, connect
  and read timeouts, keep-alive);
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

import aiohttp
import msgspec
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.exceptions import ChecksumError, ClientError, NoCredentialsError, NoRegionError
from botocore.httpsession import get_cert_path

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
_CONTENT_TYPE = "application/x-amz-json-1.0"
# aiobotocore's keep-alive: an idle pooled connection is closed after this long.
_KEEPALIVE_S = 12.0

_encode = msgspec.json.Encoder().encode
_decode = msgspec.json.Decoder().decode


def serves(endpoint_url: str) -> bool:
    """Whether the lean path can send to `endpoint_url`: its signer signs POSTs to
    "/" (DynamoDB, LocalStack and the embedded endpoint all listen there); an endpoint
    behind a path prefix or with a query stays on the SDK, which signs any URL."""
    parts = urlsplit(endpoint_url)
    return parts.scheme in ("http", "https") and parts.path in ("", "/") and not parts.query


class LeanTransport:
    """Sends the `LEAN_OPERATIONS` of one `DynamoClient`. `start()` takes the SDK
    client whose endpoint, region and credentials it follows."""

    def __init__(self, *, connect_timeout: float, read_timeout: float, max_pool: int) -> None:
        self._timeout = aiohttp.ClientTimeout(sock_connect=connect_timeout, sock_read=read_timeout)
        self._max_pool = max_pool
        self._session: aiohttp.ClientSession | None = None
        self._url = ""
        self._region: str | None = None
        self._credentials: Any = None
        self._proxy: str | None = None
        # One signer per frozen credentials (they change only when refreshed).
        self._signer: SigV4Auth | None = None
        self._signed_with: Any = None

    async def start(self, sdk_client: Any, *, ca_bundle: str | None = None) -> None:
        """Follow `sdk_client`'s endpoint, region and credentials; `ca_bundle` is the
        SDK's (AWS_CA_BUNDLE or the profile's), else the CA bundle botocore uses."""
        meta = sdk_client.meta
        self._url = meta.endpoint_url
        self._region = meta.region_name
        # The SDK's resolved credentials (explicit keys, environment, profile, role...),
        # refreshed by the SDK's own provider when they are temporary.
        self._credentials = sdk_client._request_signer._credentials
        context: ssl.SSLContext | bool = False
        if self._url.startswith("https:"):
            context = ssl.create_default_context(cafile=ca_bundle or get_cert_path(True))
        # The proxy the SDK would take from HTTP(S)_PROXY/NO_PROXY, found once: aiohttp's
        # trust_env would read the environment again on every request.
        url = urlsplit(self._url)
        scheme, host = url.scheme, url.hostname or ""
        proxy = getproxies().get(scheme)
        self._proxy = proxy if proxy and not proxy_bypass(host) else None
        connector = aiohttp.TCPConnector(limit=self._max_pool, keepalive_timeout=_KEEPALIVE_S, ssl=context)
        self._session = aiohttp.ClientSession(
            connector=connector,
            timeout=self._timeout,
            # Responses are read whole and their CRC32 checked; no compression either way.
            auto_decompress=False,
            skip_auto_headers=("User-Agent",),
        )

    async def close(self) -> None:
        session, self._session = self._session, None
        if session is not None:
            await session.close()

    async def _sign(self, body: bytes, target: str) -> dict[str, str]:
        if self._credentials is None:
            raise NoCredentialsError()
        if self._region is None:
            raise NoRegionError()
        frozen = await self._credentials.get_frozen_credentials()
        signer = self._signer
        # By value: the SDK hands out a new tuple on every call, equal until refreshed.
        if signer is None or frozen != self._signed_with:
            signer = self._signer = SigV4Auth(frozen, "dynamodb", self._region)
            self._signed_with = frozen
        request = AWSRequest(
            method="POST",
            url=self._url,
            data=body,
            headers={"Content-Type": _CONTENT_TYPE, "X-Amz-Target": target, "Accept-Encoding": "identity"},
        )
        signer.add_auth(request)
        return dict(request.headers.items())

    async def send(self, operation: str, params: Mapping[str, Any]) -> dict[str, Any]:
        """One attempt of `operation`; the parsed answer, or the SDK's exception."""
        session = self._session
        if session is None:
            raise aiohttp.ClientConnectionError("lean transport is closed")
        action = LEAN_OPERATIONS[operation]
        body = _encode(params)
        headers = await self._sign(body, _TARGET_PREFIX + action)
        async with session.post(self._url, data=body, headers=headers, proxy=self._proxy) as response:
            raw = await response.read()
            status = response.status
            crc = response.headers.get("x-amz-crc32")
            error_type = response.headers.get("x-amzn-ErrorType", "")
        # DynamoDB checksums every answer; the SDK refuses a body cut short or garbled.
        if crc is not None and crc.isdigit() and int(crc) != zlib.crc32(raw):
            raise ChecksumError(checksum_type="crc32", expected_checksum=crc, actual_checksum=str(zlib.crc32(raw)))
        if status == 200:
            parsed: dict[str, Any] = _decode(raw) if raw else {}
            if b'"B"' in raw or b'"BS"' in raw:
                _blobs_to_bytes(parsed)
            return parsed
        raise _client_error(action, status, raw, error_type)


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
        return {"B": base64.b64decode(value["B"])}
    if "BS" in value:
        return {"BS": [base64.b64decode(v) for v in value["BS"]]}
    if "M" in value:
        _item_blobs(value["M"])
    elif "L" in value:
        value["L"] = [_value_blobs(v) for v in value["L"]]
    return value


__all__ = ["LEAN_OPERATIONS", "LeanTransport", "serves"]
