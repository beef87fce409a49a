"""One table description for the server, the LocalStack hook and the tests; table
creation races; the compose stack and Dockerfile agree with the settings."""

from __future__ import annotations

import asyncio
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from snaketron.config import Settings
from snaketron.db.client import DynamoClient
from snaketron.db.errors import DatabaseError
from snaketron.db.tables import TABLES, describe_tables, ensure_tables, localstack_tables_document
from support.dynamo_settings import make_settings, unique_prefix

ROOT = Path(__file__).resolve().parents[2]
HOOK_DIR = ROOT / "localstack" / "init" / "ready.d"
SETTING_NAMES = {f.metadata["env"] for f in Settings.__dataclass_fields__.values()} | {"AWS_DEFAULT_REGION"}


async def table_shapes(client: DynamoClient, prefix: str) -> list[dict]:
    """What matters of each table, without names, dates and ARNs."""
    shapes = []
    for spec in TABLES:
        table = (await client.call("describe_table", TableName=spec.name(prefix)))["Table"]
        ttl = (await client.call("describe_time_to_live", TableName=spec.name(prefix)))["TimeToLiveDescription"]
        shapes.append(
            {
                "keys": table["KeySchema"],
                "attributes": sorted(a["AttributeName"] + a["AttributeType"] for a in table["AttributeDefinitions"]),
                "billing": table.get("BillingModeSummary", {}).get("BillingMode"),
                "indexes": sorted(
                    (g["IndexName"], json.dumps(g["KeySchema"]), g["Projection"]["ProjectionType"])
                    for g in table.get("GlobalSecondaryIndexes", [])
                ),
                "ttl": (ttl.get("TimeToLiveStatus"), ttl.get("AttributeName")),
            }
        )
    return shapes


async def test_concurrent_table_creation_is_safe_and_enables_ttl(dynamo_endpoint):
    prefix = unique_prefix()
    clients = [DynamoClient(make_settings(dynamo_endpoint, prefix)) for _ in range(3)]
    for c in clients:
        await c.start()
    try:
        await asyncio.gather(*(ensure_tables(c, prefix) for c in clients))
        await ensure_tables(clients[0], prefix)  # and again, later: a no-op
        rows = {r["table"]: r for r in await describe_tables(clients[0], prefix)}
        assert {r["status"] for r in rows.values()} == {"ACTIVE"}
        assert rows[f"{prefix}-main"]["indexes"] == ["GSI1", "GSI2"]
        assert rows[f"{prefix}-main"]["ttl"] == "ENABLED on ttl"
        assert rows[f"{prefix}-game-codes"]["ttl"] == "ENABLED on ttl"
        shapes = await table_shapes(clients[0], prefix)
        assert shapes[0]["billing"] == "PAY_PER_REQUEST"
        assert shapes[0]["indexes"][0][2] == "ALL"
        assert shapes[1]["keys"] == [{"AttributeName": "username", "KeyType": "HASH"}]
    finally:
        for c in clients:
            await c.close()


async def test_an_existing_table_with_other_keys_is_refused(dynamo_admin):
    prefix = unique_prefix()
    await dynamo_admin.call(
        "create_table",
        TableName=f"{prefix}-main",
        AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
        KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
        BillingMode="PAY_PER_REQUEST",
    )
    with pytest.raises(DatabaseError, match="key"):
        await ensure_tables(dynamo_admin, prefix)


def test_localstack_tables_json_is_generated_from_the_table_description():
    on_disk = json.loads((ROOT / "localstack" / "tables.json").read_text())
    assert on_disk == localstack_tables_document(), (
        "localstack/tables.json is stale: python -m snaketron.db.tables > localstack/tables.json"
    )


async def test_localstack_hook_creates_the_same_tables_as_the_server(dynamo_endpoint, dynamo_admin):
    hooks = sorted(HOOK_DIR.glob("*.py"))
    assert len(hooks) == 1
    hook_prefix, server_prefix = unique_prefix(), unique_prefix()
    env = {
        **os.environ,
        "DYNAMODB_TABLE_PREFIX": hook_prefix,
        "SNAKETRON_TABLES_JSON": str(ROOT / "localstack" / "tables.json"),
        "SNAKETRON_HOOK_ENDPOINT": dynamo_endpoint,
    }
    for _ in range(2):  # idempotent: LocalStack with PERSISTENCE=1 runs it on every start
        done = await asyncio.to_thread(
            subprocess.run, [sys.executable, str(hooks[0])], env=env, capture_output=True, text=True, timeout=60
        )
        assert done.returncode == 0, done.stderr
    await ensure_tables(dynamo_admin, server_prefix)
    assert await table_shapes(dynamo_admin, hook_prefix) == await table_shapes(dynamo_admin, server_prefix)


async def test_tables_command_creates_describes_and_deletes(dynamo_endpoint):
    prefix = unique_prefix()
    env = {
        **os.environ,
        "AWS_ENDPOINT_URL_DYNAMODB": dynamo_endpoint,
        "DYNAMODB_TABLE_PREFIX": prefix,
        "AWS_ACCESS_KEY_ID": "test",
        "AWS_SECRET_ACCESS_KEY": "test",
    }

    def tables(action: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "snaketron.cli", "tables", action],
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
        )

    created = await asyncio.to_thread(tables, "create")
    assert created.returncode == 0, created.stderr
    assert f"{dynamo_endpoint}, tables {prefix}-*" in created.stderr  # says where it works
    assert {row["status"] for row in json.loads(created.stdout)} == {"ACTIVE"}
    deleted = await asyncio.to_thread(tables, "delete")
    assert json.loads(deleted.stdout)["deleted"] == [f"{prefix}-main", f"{prefix}-usernames", f"{prefix}-game-codes"]
    described = await asyncio.to_thread(tables, "describe")
    assert {row["status"] for row in json.loads(described.stdout)} == {"MISSING"}


def test_tables_without_an_endpoint_says_the_embedded_one_is_per_process():
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "SNAKETRON_", "DYNAMODB_"))}
    done = subprocess.run(
        [sys.executable, "-m", "snaketron.cli", "tables", "describe"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    # Not AWS (where serve would not go either): the embedded endpoint lives inside serve.
    assert done.returncode == 2, done.stderr
    assert done.stdout == "" and "Traceback" not in done.stderr
    assert "embedded endpoint" in done.stderr and "in memory" in done.stderr
    assert "AWS_ENDPOINT_URL_DYNAMODB" in done.stderr and "SNAKETRON_EMBEDDED_DB=0" in done.stderr


# --- the compose stack (not run here: no Docker engine; checked for consistency) -----------


def compose(name: str) -> dict:
    return yaml.safe_load((ROOT / name).read_text())


def env_names(environment: dict | list) -> set[str]:
    if isinstance(environment, list):
        return {e.split("=", 1)[0] for e in environment}
    return set(environment)


def test_compose_runs_localstack_as_the_data_model_asks():
    stack = compose("docker-compose.yml")
    localstack = stack["services"]["localstack"]
    image, _, tag = localstack["image"].partition(":")
    assert image == "localstack/localstack"
    assert re.fullmatch(r"\d+\.\d+(\.\d+)?", tag) and int(tag.split(".")[0]) >= 3, "pin a 3.x or later tag"
    env = localstack["environment"]
    assert env["SERVICES"] == "dynamodb" and str(env["PERSISTENCE"]) == "1"
    assert localstack["healthcheck"]["test"]
    mounts = {v.split(":")[1]: v.split(":")[0] for v in localstack["volumes"]}
    assert mounts["/var/lib/localstack"] in stack["volumes"]  # the data volume is declared
    assert (ROOT / mounts["/etc/localstack/init/ready.d"]).resolve() == HOOK_DIR
    assert (ROOT / mounts[env["SNAKETRON_TABLES_JSON"]]).resolve() == ROOT / "localstack" / "tables.json"
    hook = next(HOOK_DIR.glob("*.py")).read_text()
    assert env["SNAKETRON_TABLES_JSON"] in hook  # the hook's default agrees with the mount


def test_compose_points_the_server_at_localstack_with_known_settings():
    stack = compose("docker-compose.yml")
    server = stack["services"]["server"]
    env = server["environment"]
    assert env_names(env) <= SETTING_NAMES, env_names(env) - SETTING_NAMES
    endpoint = re.fullmatch(r"http://(\w+):(\d+)", env["AWS_ENDPOINT_URL_DYNAMODB"])
    assert endpoint and endpoint[1] == "localstack"
    assert any(p.endswith(f":{endpoint[2]}") for p in stack["services"]["localstack"]["ports"])
    assert env["SNAKETRON_HOST"] == "0.0.0.0"
    assert server["depends_on"]["localstack"]["condition"] == "service_healthy"
    published = {p.rsplit(":", 1)[1] for p in server["ports"]}
    assert {str(env["SNAKETRON_WS_PORT"]), str(env["SNAKETRON_API_PORT"])} <= published
    assert env["DYNAMODB_TABLE_PREFIX"] == stack["services"]["localstack"]["environment"]["DYNAMODB_TABLE_PREFIX"]
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert f"AS {server['build']['target']}" in dockerfile


def test_dev_overrides_mount_the_source_and_build_the_dev_target():
    dev = compose("docker-compose.dev.yml")["services"]["server"]
    assert "./server:/app/server" in dev["volumes"]
    assert env_names(dev["environment"]) <= SETTING_NAMES
    assert dev["environment"]["SNAKETRON_LOG_LEVEL"] == "debug"
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert f"AS {dev['build']['target']}" in dockerfile and "watchfiles" in dockerfile
    docker_env = set(re.findall(r"\b(SNAKETRON_\w+|AWS_\w+|DYNAMODB_\w+)=", dockerfile))
    assert docker_env and docker_env <= SETTING_NAMES


def mounts_of(service: dict) -> dict[str, Path]:
    """Container path -> the repository path mounted there."""
    pairs = (volume.split(":")[:2] for volume in service.get("volumes", []))
    return {target: (ROOT / source).resolve() for source, target in pairs if source.startswith(".")}


def test_dev_stack_scrapes_the_server_and_provisions_the_dashboard():
    from snaketron.metrics import METRICS_PATH

    base = compose("docker-compose.yml")["services"]
    dev = compose("docker-compose.dev.yml")["services"]
    prometheus, grafana = dev["prometheus"], dev["grafana"]
    assert re.fullmatch(r"prom/prometheus:v\d+\.\d+\.\d+", prometheus["image"])
    assert re.fullmatch(r"grafana/grafana:\d+\.\d+\.\d+", grafana["image"])

    # Prometheus scrapes the server's /metrics on its API port.
    config_file = mounts_of(prometheus)["/etc/prometheus/prometheus.yml"]
    jobs = yaml.safe_load(config_file.read_text())["scrape_configs"]
    job = next(j for j in jobs if j["job_name"] == "snaketron")
    assert job["metrics_path"] == METRICS_PATH
    api_port = str(base["server"]["environment"]["SNAKETRON_API_PORT"])
    assert job["static_configs"][0]["targets"] == [f"server:{api_port}"]
    assert "server" in prometheus["depends_on"]

    # Grafana: its provisioning reads the data source and the dashboard kept in the repo.
    mounts = mounts_of(grafana)
    provisioning = mounts["/etc/grafana/provisioning"]
    assert provisioning.is_dir() and provisioning.is_relative_to(ROOT)
    sources = yaml.safe_load((provisioning / "datasources" / "prometheus.yml").read_text())["datasources"]
    source = next(s for s in sources if s["type"] == "prometheus")
    prometheus_port = prometheus["ports"][0].rsplit(":", 1)[1]
    assert source["url"] == f"http://prometheus:{prometheus_port}"
    providers = yaml.safe_load((provisioning / "dashboards" / "snaketron.yml").read_text())["providers"]
    dashboards_in_container = providers[0]["options"]["path"]
    dashboards = mounts[dashboards_in_container]
    home = grafana["environment"]["GF_DASHBOARDS_DEFAULT_HOME_DASHBOARD_PATH"]
    assert home.startswith(dashboards_in_container + "/")
    dashboard = json.loads((dashboards / home.rsplit("/", 1)[1]).read_text())

    # Every panel asks the provisioned data source for metrics the server exports.
    exported = (ROOT / "server" / "snaketron" / "metrics.py").read_text()
    queried = set()
    for panel in dashboard["panels"]:
        assert panel["datasource"]["uid"] == source["uid"], panel["title"]
        for target in panel["targets"]:
            queried |= set(re.findall(r"\b(snaketron_\w+?)(?:_total|_bucket|_count|_sum)?\b", target["expr"]))
    assert queried and all(f'"{name}"' in exported for name in queried), queried


# Closing connections and the API after the flush, and the offline status's last second.
STOP_MARGIN_S = 3


def test_docker_stop_waits_for_the_drain_and_the_flush():
    flush_s = Settings().shutdown_flush_seconds
    server = compose("docker-compose.yml")["services"]["server"]
    grace_s = int(server["environment"]["SNAKETRON_DRAIN_GRACE_SECONDS"])
    stop_s = int(re.fullmatch(r"(\d+)s", server["stop_grace_period"])[1])
    assert stop_s >= grace_s + flush_s + STOP_MARGIN_S
    # A plain `docker stop` of the image (10 s) covers its own grace period.
    image_grace = int(re.search(r"SNAKETRON_DRAIN_GRACE_SECONDS=(\d+)", (ROOT / "Dockerfile").read_text())[1])
    assert image_grace + flush_s + STOP_MARGIN_S <= 10
