"""What a client's malformed request leaves in the log."""

from __future__ import annotations

import asyncio

from support.log_capture import console_log


async def test_a_malformed_request_is_a_one_line_warning_not_a_traceback(api, monkeypatch) -> None:
    # Before: aiohttp's "Error handling request" at error level with a traceback,
    # 2.6 KB of log (ANSI colours included) per over-long request line.
    with console_log(monkeypatch) as stream:
        host, port = api.url.removeprefix("http://").split(":")
        for _ in range(5):
            reader, writer = await asyncio.open_connection(host, int(port))
            writer.write(b"GET /api/leaderboard?x=" + b"a" * 9000 + b" HTTP/1.1\r\nHost: x\r\n\r\n")
            assert b" 400 " in await reader.readline()
            writer.close()
        status, _, _ = await api.get("/api/leaderboard/seasons")
        assert status == 200
    lines = [line for line in stream.getvalue().splitlines() if "Error handling request" in line]
    assert len(lines) == 5 and all("warning" in line and "LineTooLong 400" in line for line in lines), lines
    assert "Traceback" not in stream.getvalue()
    print(f"{len(stream.getvalue()) / 5:.0f} bytes of log per malformed request")
