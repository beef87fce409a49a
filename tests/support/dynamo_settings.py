"""Settings for tests that talk to a DynamoDB endpoint (the fixtures in conftest.py use these)."""

from __future__ import annotations

import itertools
import uuid

from snaketron.config import Settings

_prefixes = itertools.count(1)
_RUN = uuid.uuid4().hex[:6]


def make_settings(endpoint: str, prefix: str, **overrides: object) -> Settings:
    """Settings for tests on `endpoint`; fast flushes, short retry budgets."""
    values: dict[str, object] = {
        "dynamodb_endpoint": endpoint,
        "aws_endpoint": "",
        "aws_region": "us-east-1",
        "aws_access_key_id": "test",
        "aws_secret_access_key": "test",
        "table_prefix": prefix,
        "embedded_db": False,
        "create_tables": False,
        "batch_flush_ms": 5,
        "db_retry_base_ms": 5,
        "db_retry_max_ms": 100,
        "db_deadline_ms": 5_000,
        "db_read_timeout": 5.0,
        "log_level": "warning",
        # Loopback servers on a test-only endpoint: development mode, as `auto` would
        # choose for the embedded endpoint these fixtures start themselves.
        "dev_mode_setting": "1",
    }
    values.update(overrides)
    return Settings.from_env({}, **values)


def unique_prefix() -> str:
    return f"t{_RUN}-{next(_prefixes)}"
