"""LocalStack ready hook: create SnakeTron's DynamoDB tables and enable TTL.

LocalStack runs every script in /etc/localstack/init/ready.d once it serves
requests, inside its own Python (which has boto3). The tables come from
tables.json, generated from the server's one table description
(`python -m snaketron.db.tables > localstack/tables.json`; a test keeps the two
equal and runs this hook against the embedded endpoint). Idempotent: an existing
table is left as it is (PERSISTENCE=1 brings tables back on restart), and the
server would create missing tables itself anyway.

Environment: DYNAMODB_TABLE_PREFIX (default snaketron), SNAKETRON_TABLES_JSON,
SNAKETRON_HOOK_ENDPOINT (default http://localhost:4566), AWS_DEFAULT_REGION.
"""

import json
import os

import boto3
from botocore.exceptions import ClientError

TABLES_JSON = os.environ.get("SNAKETRON_TABLES_JSON", "/etc/localstack/snaketron/tables.json")
PREFIX = os.environ.get("DYNAMODB_TABLE_PREFIX") or "snaketron"
ENDPOINT = os.environ.get("SNAKETRON_HOOK_ENDPOINT", "http://localhost:4566")
REGION = os.environ.get("AWS_DEFAULT_REGION") or os.environ.get("AWS_REGION") or "us-east-1"


def create_tables() -> None:
    with open(TABLES_JSON, encoding="utf-8") as f:
        document = json.load(f)
    client = boto3.client(
        "dynamodb",
        endpoint_url=ENDPOINT,
        region_name=REGION,
        aws_access_key_id="test",
        aws_secret_access_key="test",
    )
    for table in document["tables"]:
        request = json.loads(json.dumps(table["createTable"]).replace("{prefix}", PREFIX))
        name = request["TableName"]
        try:
            client.create_table(**request)
            print(f"snaketron: created table {name}")
        except ClientError as exc:
            if exc.response["Error"]["Code"] != "ResourceInUseException":
                raise
            print(f"snaketron: table {name} exists")
        client.get_waiter("table_exists").wait(TableName=name, WaiterConfig={"Delay": 1, "MaxAttempts": 60})
        if table["ttl"]:
            ttl = client.describe_time_to_live(TableName=name)["TimeToLiveDescription"]
            if ttl.get("TimeToLiveStatus") not in ("ENABLED", "ENABLING"):
                client.update_time_to_live(
                    TableName=name,
                    TimeToLiveSpecification={"Enabled": True, "AttributeName": document["ttlAttribute"]},
                )
                print(f"snaketron: TTL enabled on {name}.{document['ttlAttribute']}")


# LocalStack executes this file rather than importing it as __main__: run unconditionally.
create_tables()
