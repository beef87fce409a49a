"""`snaketron loadtest --plot FILE.png`: a run's time series as one picture.

Four panels sharing the time axis: players live; event delivery p50/p99 and the
server's tick lateness p99; frames received per second; errors and the server's
DynamoDB requests per second. matplotlib is an optional extra (`pip install
'snaketron[plot]'`), drawn with its file-only Agg backend (no display needed).
"""

from __future__ import annotations

from collections.abc import Sequence

from snaketron.loadtest.timeseries import Sample

INSTALL_HINT = "--plot needs matplotlib: pip install 'snaketron[plot]' (or pip install matplotlib)"


class PlotUnavailable(ValueError):
    """matplotlib is not installed."""


def require_matplotlib() -> None:
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        raise PlotUnavailable(INSTALL_HINT) from None


def draw(samples: Sequence[Sample], path: str, *, title: str = "snaketron loadtest") -> None:
    """Write the series to `path` (PNG)."""
    require_matplotlib()
    import matplotlib

    matplotlib.use("Agg")  # files only: no display, no GUI toolkit
    from matplotlib import pyplot

    t = [s.t_s for s in samples]
    figure, (players, latency, messages, errors) = pyplot.subplots(4, 1, sharex=True, figsize=(10, 11))
    figure.suptitle(title)

    players.plot(t, [s.players_live for s in samples], label="players live")
    players.plot(t, [s.bots_running for s in samples], label="bots running", linestyle="--")
    players.set_ylabel("players")

    latency.plot(t, _values(samples, "delivery_p50_ms"), label="delivery p50")
    latency.plot(t, _values(samples, "delivery_p99_ms"), label="delivery p99")
    latency.plot(t, _values(samples, "tick_lateness_p99_ms"), label="server tick lateness p99")
    latency.set_ylabel("ms")

    messages.plot(t, [s.messages_per_s for s in samples], label="frames received/s")
    messages.set_ylabel("messages/s")

    errors.plot(t, [s.errors for s in samples], label="errors (so far)", color="tab:red")
    errors.set_ylabel("errors")
    errors.set_ylim(0, max([1, *(s.errors for s in samples)]) * 1.1)  # zero errors sit on the floor
    requests = errors.twinx()
    requests.plot(t, _values(samples, "dynamodb_requests_per_s"), label="DynamoDB requests/s", color="tab:green")
    requests.set_ylabel("requests/s")
    errors.set_xlabel("seconds since the run began")

    for axes in (players, latency, messages, errors):
        axes.grid(alpha=0.3)
        axes.legend(loc="upper left", fontsize="small")
    requests.legend(loc="upper right", fontsize="small")
    figure.tight_layout()
    figure.savefig(path, dpi=100)
    pyplot.close(figure)


def _values(samples: Sequence[Sample], column: str) -> list[float]:
    """A column with its gaps as NaN, which matplotlib leaves out of the line."""
    return [float("nan") if (v := getattr(s, column)) is None else v for s in samples]
