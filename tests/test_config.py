import dataclasses

import pytest

from snaketron.config import DEV_JWT_SECRET, Settings, settings_table_markdown


def test_defaults_and_env_parsing():
    s = Settings.from_env(
        {"SNAKETRON_WS_PORT": "9000", "SNAKETRON_DEV_MODE": "false", "AWS_DEFAULT_REGION": "eu-west-1"}
    )
    assert s.ws_port == 9000
    assert s.dev_mode is False
    assert s.aws_region == "eu-west-1"
    assert Settings.from_env({}).api_port == 3001


def test_bad_value_names_the_variable():
    with pytest.raises(ValueError, match="SNAKETRON_WS_PORT"):
        Settings.from_env({"SNAKETRON_WS_PORT": "eighty"})


def test_production_refuses_dev_secrets():
    prod = Settings.from_env({"SNAKETRON_DEV_MODE": "0", "SNAKETRON_JWT_SECRET": DEV_JWT_SECRET})
    assert any("JWT" in p for p in prod.check_production_safety())
    dev = Settings.from_env({})
    assert dev.check_production_safety() == []
    assert dev.effective_jwt_secret() == DEV_JWT_SECRET


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
