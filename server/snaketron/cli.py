"""The `snaketron` command: serve, tables, config, loadtest, replay, migrate.

Each subcommand lives in the module that owns it; this file only parses arguments
and imports lazily, so `snaketron config` does not pay for the server's imports.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import sys
import traceback


def _cmd_config(args: argparse.Namespace) -> int:
    from snaketron.config import Settings, settings_table_markdown

    if args.markdown:
        print(settings_table_markdown())
        return 0
    settings = Settings.from_env()
    # As an operator sets them: environment variable names, values as the server took them.
    for field in dataclasses.fields(settings):
        value = getattr(settings, field.name)
        if "secret" in field.name and value:
            value = "***"
        print(f"{field.metadata['env']}={value}")
    return 0


def _cmd_secret(args: argparse.Namespace) -> int:
    """A fresh random secret for SNAKETRON_JWT_SECRET or SNAKETRON_CLUSTER_SECRET."""
    import secrets

    # 32 random bytes (the HS256 key size), URL-safe text: 43 characters, safe in env files.
    print(secrets.token_urlsafe(32))
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="snaketron", description=__doc__.splitlines()[0])
    parser.add_argument(
        "--debug",
        action="store_true",
        help="show the traceback of a refusal to start (as SNAKETRON_LOG_LEVEL=debug does)",
    )
    sub = parser.add_subparsers(dest="command", required=True)

    serve = sub.add_parser("serve", help="run the WebSocket server, HTTP API and game hosting")
    serve.add_argument("--host", help="bind address (SNAKETRON_HOST)")
    serve.add_argument("--ws-port", type=int, help="WebSocket port (SNAKETRON_WS_PORT)")
    serve.add_argument("--api-port", type=int, help="HTTP API port (SNAKETRON_API_PORT)")
    serve.add_argument("--region", help="region (SNAKETRON_REGION)")
    serve.set_defaults(handler="snaketron.game_server:serve_command")

    tables = sub.add_parser("tables", help="manage the DynamoDB tables on the configured endpoint")
    tables.add_argument("action", choices=["create", "describe", "delete"])
    tables.set_defaults(handler="snaketron.db.tables:tables_command")

    config = sub.add_parser("config", help="print the effective settings as environment variables")
    config.add_argument("--markdown", action="store_true", help="print the documented settings table")
    config.set_defaults(handler=_cmd_config)

    secret = sub.add_parser(
        "secret", help="print a fresh random secret (SNAKETRON_JWT_SECRET, SNAKETRON_CLUSTER_SECRET)"
    )
    secret.set_defaults(handler=_cmd_secret)

    loadtest = sub.add_parser("loadtest", help="drive headless bots against a running server")
    loadtest.set_defaults(
        handler="snaketron.loadtest.cli:loadtest_command", configure="snaketron.loadtest.cli:configure_parser"
    )

    replay = sub.add_parser("replay", help="print a finished game's summary, or its replay's events (--json)")
    replay.set_defaults(
        handler="snaketron.replays.cli:replay_command", configure="snaketron.replays.cli:configure_parser"
    )

    compile_ = sub.add_parser(
        "compile", help="build the per-tick modules as C extensions (mypyc) into a copy of the package"
    )
    compile_.add_argument("--out", required=True, help="directory for the build; then run with PYTHONPATH=<out>")
    compile_.set_defaults(handler="snaketron.native:compile_command")

    migrate = sub.add_parser("migrate", help="carry data over from an earlier deployment")
    migrate.set_defaults(handler="snaketron.migrate:migrate_command", configure="snaketron.migrate:configure_parser")
    return parser


def _resolve(ref: str):
    import importlib

    module, _, attr = ref.partition(":")
    return getattr(importlib.import_module(module), attr)


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    parser = build_parser()
    # Subcommands with many options declare them in their own module.
    command = next((a for a in argv if not a.startswith("-")), None)
    if command in ("loadtest", "migrate", "replay"):
        sub = parser._subparsers._group_actions[0].choices[command]  # type: ignore[union-attr,index]  # argparse has no public way to a subparser
        _resolve(sub.get_default("configure"))(sub)
    args = parser.parse_args(argv)
    handler = args.handler if callable(args.handler) else _resolve(args.handler)
    from snaketron.config import ConfigError

    try:
        return int(handler(args) or 0)
    except ConfigError as exc:
        # Something the operator changes (a setting, an option, a busy port): one line that
        # says what and where, no traceback unless asked for.
        if args.debug or os.environ.get("SNAKETRON_LOG_LEVEL", "").strip().lower() == "debug":
            traceback.print_exc()
        print(f"snaketron: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
