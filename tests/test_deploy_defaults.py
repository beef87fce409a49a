"""The shipped deployment files run in production mode (issue 17): the Docker image and
docker-compose.yml with secrets from the environment, compose failing early with a clear
message when one is missing; docker-compose.dev.yml turns development mode on."""

from __future__ import annotations

import re
from pathlib import Path

import yaml

from snaketron.config import Settings

ROOT = Path(__file__).resolve().parents[1]


def server_env(name: str) -> dict:
    return yaml.safe_load((ROOT / name).read_text())["services"]["server"]["environment"]


def test_compose_runs_production_mode_and_insists_on_both_secrets():
    env = server_env("docker-compose.yml")
    assert str(env["SNAKETRON_DEV_MODE"]) == "0"
    for name in ("SNAKETRON_JWT_SECRET", "SNAKETRON_CLUSTER_SECRET"):
        # `${VAR:?message}`: compose stops before starting anything, saying what to set.
        match = re.fullmatch(r"\$\{" + name + r":\?(.+)\}", env[name])
        assert match and name in match[1] and "snaketron secret" in match[1], env[name]


def test_compose_dev_overrides_turn_development_mode_on():
    env = server_env("docker-compose.dev.yml")
    assert Settings.from_env({k: str(v) for k, v in env.items()}).dev_mode_setting == "on"


def test_the_docker_image_runs_production_mode_and_its_dev_target_development():
    dockerfile = (ROOT / "Dockerfile").read_text()
    runtime, _, dev = dockerfile.partition(" AS dev")
    assert re.search(r"SNAKETRON_DEV_MODE=0\b", runtime)
    assert re.search(r"SNAKETRON_DEV_MODE=1\b", dev)
