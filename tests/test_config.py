import dataclasses

import pytest

from snaketron.config import (
    DEV_CLUSTER_SECRET,
    DEV_JWT_SECRET,
    MIN_SECRET_BYTES,
    ConfigError,
    Settings,
    settings_table_markdown,
)


def test_defaults_and_env_parsing():
    s = Settings.from_env(
        {"SNAKETRON_WS_PORT": "9000", "SNAKETRON_DEV_MODE": "false", "AWS_DEFAULT_REGION": "eu-west-1"}
    )
    assert s.ws_port == 9000
    assert s.dev_mode_setting == "off" and not s.dev_mode
    assert s.aws_region == "eu-west-1"
    assert Settings.from_env({}).api_port == 3001


def test_bad_value_names_the_variable():
    with pytest.raises(ValueError, match="SNAKETRON_WS_PORT"):
        Settings.from_env({"SNAKETRON_WS_PORT": "eighty"})


def test_development_mode_is_automatic_only_on_the_embedded_endpoint_and_loopback():
    assert Settings.from_env({}).dev_mode  # the laptop default
    assert Settings.from_env({}).effective_jwt_secret() == DEV_JWT_SECRET
    assert Settings.from_env({"SNAKETRON_HOST": "::1"}).dev_mode
    for env in (
        {"SNAKETRON_HOST": "0.0.0.0"},
        {"SNAKETRON_HOST": "192.0.2.10"},
        {"AWS_ENDPOINT_URL_DYNAMODB": "http://localhost:4566"},  # LocalStack: real data
        {"AWS_ENDPOINT_URL": "http://127.0.0.1:8000"},
        {"SNAKETRON_EMBEDDED_DB": "0"},  # AWS itself
        {"SNAKETRON_DEV_MODE": "0"},
    ):
        settings = Settings.from_env(env)
        assert not settings.dev_mode, env
        assert settings.effective_jwt_secret() == "" and settings.effective_cluster_secret() == ""
        assert settings.mode_description() == "production mode"
    forced = Settings.from_env({"SNAKETRON_DEV_MODE": "1", "SNAKETRON_HOST": "0.0.0.0"})
    assert forced.dev_mode and "SNAKETRON_DEV_MODE=1" in forced.mode_description()
    with pytest.raises(ValueError, match="SNAKETRON_DEV_MODE"):
        Settings.from_env({"SNAKETRON_DEV_MODE": "maybe"})


def test_production_refuses_missing_published_and_short_secrets():
    strong = "s" * MIN_SECRET_BYTES
    base = {"SNAKETRON_HOST": "0.0.0.0"}
    for jwt_secret, cluster_secret, named in (
        ("", "", "SNAKETRON_JWT_SECRET and SNAKETRON_CLUSTER_SECRET"),
        ("x", strong, "SNAKETRON_JWT_SECRET"),
        (strong[:-1], strong, "SNAKETRON_JWT_SECRET"),
        (DEV_JWT_SECRET, strong, "SNAKETRON_JWT_SECRET"),
        (strong, DEV_CLUSTER_SECRET, "SNAKETRON_CLUSTER_SECRET"),
    ):
        env = {**base, "SNAKETRON_JWT_SECRET": jwt_secret, "SNAKETRON_CLUSTER_SECRET": cluster_secret}
        with pytest.raises(ConfigError) as refused:
            Settings.from_env(env).check_startup()
        message = str(refused.value)
        assert "\n" not in message and f"needs {named} set" in message and "0.0.0.0" in message
    Settings.from_env({**base, "SNAKETRON_JWT_SECRET": strong, "SNAKETRON_CLUSTER_SECRET": strong}).check_startup()
    Settings.from_env({}).check_startup()  # development: no secrets needed


def test_explicit_production_refuses_the_embedded_endpoint():
    strong = "s" * MIN_SECRET_BYTES
    env = {"SNAKETRON_DEV_MODE": "0", "SNAKETRON_JWT_SECRET": strong, "SNAKETRON_CLUSTER_SECRET": strong}
    with pytest.raises(ConfigError, match=r"embedded in-memory endpoint.*AWS_ENDPOINT_URL_DYNAMODB"):
        Settings.from_env(env).check_startup()
    Settings.from_env({**env, "AWS_ENDPOINT_URL_DYNAMODB": "http://localhost:4566"}).check_startup()


def test_every_setting_is_documented():
    table = settings_table_markdown()
    for f in dataclasses.fields(Settings):
        assert f"`{f.metadata['env']}`" in table
        assert f.metadata["doc"]


def test_readme_settings_table_is_the_generated_one():
    import pathlib

    readme = (pathlib.Path(__file__).parents[1] / "README.md").read_text()
    section = readme.split("<!-- settings:begin -->\n", 1)[1].split("\n<!-- settings:end -->", 1)[0]
    assert section == settings_table_markdown(), "run `snaketron config --markdown` and paste it into README.md"


def test_config_command_prints_environment_variable_names():
    import os
    import subprocess
    import sys

    env = {**os.environ, "SNAKETRON_WS_PORT": "9000", "SNAKETRON_JWT_SECRET": "x" * 40}
    done = subprocess.run([sys.executable, "-m", "snaketron.cli", "config"], env=env, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert "SNAKETRON_WS_PORT=9000" in lines
    assert "SNAKETRON_JWT_SECRET=***" in lines  # never printed
    assert {line.split("=", 1)[0] for line in lines} == {f.metadata["env"] for f in dataclasses.fields(Settings)}


def test_rating_writes_in_flight_follow_the_endpoint_unless_set():
    assert Settings.from_env({}).result_writes_in_flight == 4  # the embedded endpoint: one request at a time
    remote = {"AWS_ENDPOINT_URL_DYNAMODB": "http://localhost:4566"}
    assert Settings.from_env(remote).result_writes_in_flight == 32
    assert Settings.from_env({**remote, "SNAKETRON_DB_RESULT_WRITES": "6"}).result_writes_in_flight == 6
    with pytest.raises(ConfigError, match="SNAKETRON_DB_RESULT_WRITES"):
        Settings.from_env({"SNAKETRON_DB_RESULT_WRITES": "-1"})
