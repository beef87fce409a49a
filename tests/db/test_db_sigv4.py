"""The lean path's SigV4 signer agrees with botocore's `SigV4Auth`, byte for byte."""

from __future__ import annotations

import datetime

import botocore.auth
import pytest
from botocore.awsrequest import AWSRequest
from botocore.credentials import ReadOnlyCredentials
from hypothesis import given
from hypothesis import strategies as st

from snaketron.db.sigv4 import SigV4Signer, canonical_host

_secrets = st.text(alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789/+", min_size=1, max_size=40)
_urls = st.sampled_from(
    [
        "https://dynamodb.eu-west-1.amazonaws.com",
        "https://dynamodb.us-east-1.amazonaws.com:443",
        "http://127.0.0.1:4566",
        "http://LocalHost:8000/",
        "http://[::1]:8000",
        "https://123456789012.ddb.eu-central-1.amazonaws.com",
    ]
)


def botocore_headers(
    url: str, region: str, body: bytes, target: str, credentials: ReadOnlyCredentials, when: datetime.datetime
) -> dict[str, str]:
    request = AWSRequest(
        method="POST",
        url=url,
        data=body,
        headers={"Content-Type": "application/x-amz-json-1.0", "X-Amz-Target": target, "Accept-Encoding": "identity"},
    )
    original = botocore.auth.get_current_datetime
    botocore.auth.get_current_datetime = lambda: when  # type: ignore[assignment]
    try:
        botocore.auth.SigV4Auth(credentials, "dynamodb", region).add_auth(request)
    finally:
        botocore.auth.get_current_datetime = original
    return dict(request.headers.items())


@given(
    url=_urls,
    region=st.sampled_from(["eu-west-1", "us-east-1", "ap-southeast-2"]),
    body=st.binary(max_size=300),
    target=st.sampled_from(["DynamoDB_20120810.GetItem", "DynamoDB_20120810.TransactWriteItems"]),
    access=st.text(alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789", min_size=16, max_size=20),
    secret=_secrets,
    token=st.none() | _secrets,
    seconds=st.integers(min_value=1_600_000_000, max_value=2_000_000_000),
)
def test_signed_headers_match_botocore(
    url: str, region: str, body: bytes, target: str, access: str, secret: str, token: str | None, seconds: int
) -> None:
    credentials = ReadOnlyCredentials(access, secret, token)
    when = datetime.datetime.fromtimestamp(seconds, datetime.UTC).replace(tzinfo=None)
    ours = SigV4Signer(url, region).headers(body, target, credentials, now=seconds + 0.5)
    assert ours == botocore_headers(url, region, body, target, credentials, when)


def test_one_signer_follows_the_clock_and_new_credentials() -> None:
    signer = SigV4Signer("http://127.0.0.1:4566", "eu-west-1")
    first = ReadOnlyCredentials("AKIDFIRST", "secret-one", None)
    second = ReadOnlyCredentials("AKIDSECOND", "secret-two", "token")
    for seconds, credentials in [(1_700_000_000, first), (1_700_086_400, first), (1_700_086_401, second)]:
        when = datetime.datetime.fromtimestamp(seconds, datetime.UTC).replace(tzinfo=None)
        expected = botocore_headers("http://127.0.0.1:4566", "eu-west-1", b"{}", "T.X", credentials, when)
        assert signer.headers(b"{}", "T.X", credentials, now=seconds) == expected


@pytest.mark.parametrize(
    ("url", "host"),
    [
        ("https://dynamodb.eu-west-1.amazonaws.com:443", "dynamodb.eu-west-1.amazonaws.com"),
        ("http://127.0.0.1:80", "127.0.0.1"),
        ("http://127.0.0.1:4566", "127.0.0.1:4566"),
        ("https://Example.COM", "example.com"),
    ],
)
def test_canonical_host(url: str, host: str) -> None:
    assert canonical_host(url) == host
