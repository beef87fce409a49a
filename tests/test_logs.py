"""What the readable (console) log format shows of a failure."""

from __future__ import annotations

from snaketron.logs import get_logger
from support.log_capture import console_log


def test_a_console_traceback_shows_no_local_variables(monkeypatch) -> None:
    # Before: rich tracebacks listed every frame's locals; a failing /api/leaderboard/me
    # printed the user record with its password hash, a login frame its password.
    with console_log(monkeypatch) as stream:

        def check(password: str) -> None:
            raise RuntimeError("the database went away")

        secret = "-".join(("hunter2", "plaintext"))  # not spelled out in the shown source
        try:
            check(secret)
        except RuntimeError:
            get_logger("test").exception("api_unexpected_error")
    text = stream.getvalue()
    assert "the database went away" in text and "check" in text  # the traceback is there
    assert "hunter2-plaintext" not in text
