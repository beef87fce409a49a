"""Prometheus metrics of one game server: every metric's name, help and labels.

`ServerMetrics.install(server, app)` serves `GET /metrics` on the HTTP port (the
text format prometheus_client's `choose_encoder` picks for the scraper's Accept
header). Nothing here is a process-wide global: each server gets its own
`CollectorRegistry`, so several servers in one process (tests, benchmarks) keep
their figures apart.

Nothing on the hot path touches prometheus_client. The game host, the WebSocket
server, the DynamoDB client, the batch writer and matchmaking already keep plain
counters (and `histograms.BucketCounts`) for their own logs and tests; this
module is a custom collector that reads them, and the gauges (clients by state,
games by kind, players, queue depths) from live state, when a scrape asks. The
only recording it adds itself is per HTTP request, in an aiohttp middleware.
"""

from __future__ import annotations

import collections
from collections.abc import Iterable, Iterator, Mapping
from typing import TYPE_CHECKING, Any, get_args

from aiohttp import web
from prometheus_client import CollectorRegistry, ProcessCollector
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, HistogramMetricFamily, Metric
from prometheus_client.exposition import choose_encoder

from snaketron.games import GameKind
from snaketron.histograms import BucketCounts, TickTimings
from snaketron.sessions import ConnectionState

if TYPE_CHECKING:
    from snaketron.game_server import GameServer

METRICS_PATH = "/metrics"
# Label of requests that matched no route (404s of unknown paths): never the raw path,
# which a client chooses and which would grow the series without bound.
UNMATCHED_ROUTE = "unmatched"
GAME_KINDS: tuple[GameKind, ...] = get_args(GameKind)

# Plain counters: (metric name, help, the attribute of the stats object that holds it).
MESSAGE_COUNTERS = (  # WsServer.stats
    ("snaketron_commands_received", "GameCommands that reached their game.", "commands"),
    (
        "snaketron_commands_rejected",
        "GameCommands their game refused (a spectator's, or against the rules).",
        "commands_rejected",
    ),
)
HOST_COUNTERS = (  # GameHost.stats
    ("snaketron_ticks", "Game ticks computed.", "ticks"),
    ("snaketron_late_ticks", "Game ticks computed more than one tick length after their deadline.", "late_ticks"),
    ("snaketron_games_finished", "Games ended (by the rules or abandoned).", "games_finished"),
    ("snaketron_frames_sent", "Game event frames pushed to clients (one per message per recipient).", "frames_sent"),
    ("snaketron_sent_bytes", "Payload bytes of the game event frames pushed to clients.", "bytes_sent"),
)


class ServerMetrics:
    """A Prometheus collector over one `GameServer`'s state and counters."""

    def __init__(self, server: GameServer, registry: CollectorRegistry | None = None) -> None:
        self.server = server
        self.registry = registry if registry is not None else CollectorRegistry(auto_describe=True)
        # (route, method, status) -> requests answered; the one count kept here.
        self.http_requests: collections.Counter[tuple[str, str, str]] = collections.Counter()
        self.http_rate_limited = 0
        server.host.tick_timings = TickTimings()
        self.registry.register(self)
        # Resident memory, CPU seconds, open files of this process (Linux /proc).
        ProcessCollector(registry=self.registry)

    @classmethod
    def install(cls, server: GameServer, app: web.Application) -> ServerMetrics:
        """Count the app's requests and serve /metrics on it. Call before the app starts,
        and before any catch-all route."""
        metrics = cls(server)
        app.middlewares.insert(0, metrics.count_requests)  # outermost: sees every final status
        app.router.add_get(METRICS_PATH, metrics.handle_scrape)
        return metrics

    # --- HTTP ------------------------------------------------------------------------------
    @web.middleware
    async def count_requests(self, request: web.Request, handler: Any) -> web.StreamResponse:
        status = 500
        try:
            response = await handler(request)
            status = response.status
            return response
        except web.HTTPException as exc:
            status = exc.status
            raise
        finally:
            resource = request.match_info.route.resource
            route = resource.canonical if resource is not None else UNMATCHED_ROUTE
            self.http_requests[route, request.method, str(status)] += 1
            if status == 429:
                self.http_rate_limited += 1

    async def handle_scrape(self, request: web.Request) -> web.Response:
        encoder, content_type = choose_encoder(request.headers.get("Accept", ""))
        return web.Response(body=encoder(self.registry), headers={"Content-Type": content_type})

    # --- the collector ---------------------------------------------------------------------
    def collect(self) -> Iterator[Metric]:
        yield from self._connections()
        yield from self._games()
        yield from self._database()
        yield from self._matchmaking()
        yield from self._http()

    def _connections(self) -> Iterable[Metric]:
        ws = self.server.ws
        by_state = collections.Counter(session.state for session in ws.sessions)
        yield _by_label(
            GaugeMetricFamily,
            "snaketron_connected_clients",
            "WebSocket connections open now, by connection state.",
            "state",
            {state.value: by_state[state] for state in ConnectionState},
        )
        stats = ws.stats
        yield from _counters(stats, MESSAGE_COUNTERS)
        yield _by_label(
            CounterMetricFamily,
            "snaketron_messages_refused",
            "Client frames refused with an Error, by its code.",
            "code",
            stats.refused,
        )
        limited = CounterMetricFamily(
            "snaketron_rate_limit_refusals",
            "Requests refused by a limit: the account API's per-address rates and lockouts (api), a "
            "connection's message budget (ws_messages), the per-address connection cap (ws_connections).",
            labels=["scope"],
        )
        limited.add_metric(["api"], self.http_rate_limited)
        limited.add_metric(["ws_messages"], stats.refused["rate_limited"])
        limited.add_metric(["ws_connections"], stats.connections_refused)
        yield limited

    def _games(self) -> Iterable[Metric]:
        host = self.server.host
        by_kind = collections.Counter(hosted.kind for hosted in host.running_games())
        yield _by_label(
            GaugeMetricFamily,
            "snaketron_games_running",
            "Games hosted here and not finished, by kind.",
            "kind",
            {kind: by_kind[kind] for kind in GAME_KINDS},
        )
        yield GaugeMetricFamily("snaketron_players_in_games", "Snakes in the running games.", value=host.player_count())
        yield from _counters(host.stats, HOST_COUNTERS)
        timings = host.tick_timings
        if timings is not None:
            for name, documentation, (buckets, total) in (
                (
                    "snaketron_tick_lateness_seconds",
                    "How long after its deadline each game tick ran.",
                    timings.lateness(),
                ),
                (
                    "snaketron_tick_duration_seconds",
                    "Time to compute one game's tick and push its frames.",
                    timings.duration(),
                ),
            ):
                yield HistogramMetricFamily(name, documentation, buckets=buckets, sum_value=total)

    def _database(self) -> Iterable[Metric]:
        db = self.server.db
        client_metrics = getattr(db, "metrics", None)  # a DynamoDatabase's DbMetrics
        if client_metrics is not None:
            yield _by_label(
                CounterMetricFamily,
                "snaketron_dynamodb_requests",
                "DynamoDB requests sent, retries included.",
                "operation",
                client_metrics.requests,
            )
            yield _by_label(
                CounterMetricFamily,
                "snaketron_dynamodb_retries",
                "DynamoDB requests sent again after a transient failure.",
                "operation",
                client_metrics.retries_by_operation,
            )
            throttles = CounterMetricFamily(
                "snaketron_dynamodb_throttles", "DynamoDB requests throttled.", labels=["operation"]
            )
            errors = CounterMetricFamily(
                "snaketron_dynamodb_errors",
                "Failed DynamoDB requests other than throttling, by kind: server (5xx), connection, gave_up (retries "
                "or deadline exhausted), or the error returned (Conflict: a condition failed, ...).",
                labels=["operation", "kind"],
            )
            for (operation, kind), count in sorted(client_metrics.failures.items()):
                if kind == "throttled":
                    throttles.add_metric([operation], count)
                else:
                    errors.add_metric([operation, kind], count)
            yield throttles
            yield errors
            latency = HistogramMetricFamily(
                "snaketron_dynamodb_request_seconds", "Latency of one DynamoDB request attempt.", labels=["operation"]
            )
            for operation, buckets in sorted(client_metrics.latency.items()):
                latency.add_metric([operation], buckets.cumulative(), buckets.sum)
            yield latency
        writer = getattr(db, "writer", None)  # a DynamoDatabase's BatchWriter
        if writer is not None:
            yield GaugeMetricFamily(
                "snaketron_batch_writer_pending_items",
                "Items accepted by the batch writer, not durable yet.",
                value=writer.pending,
            )
            yield CounterMetricFamily(
                "snaketron_batch_writer_written_items",
                "Items the batch writer made durable.",
                value=writer.metrics.written,
            )
            yield CounterMetricFamily(
                "snaketron_batch_writer_requests", "BatchWriteItem calls answered.", value=writer.metrics.requests
            )

    def _matchmaking(self) -> Iterable[Metric]:
        service = self.server.matchmaking
        queued = GaugeMetricFamily(
            "snaketron_matchmaking_queued_players",
            "Players waiting for a match: this server's (scope=server) and, on the server holding the "
            "region's matcher lease, the whole region's as its last round saw them (scope=region).",
            labels=["queue", "scope"],
        )
        for key, count in sorted(collections.Counter(entry.rule.key for entry in service.waiting.values()).items()):
            queued.add_metric([key, "server"], count)
        matcher = service.matcher
        formed = 0
        if matcher is not None:
            formed = matcher.matches_made
            if matcher.is_active() and matcher.last_tickets is not None:
                region = collections.Counter(t.queue_key for t in matcher.last_tickets[1] if t.matched_game_id is None)
                for key, count in sorted(region.items()):
                    queued.add_metric([key, "region"], count)
        yield queued
        yield CounterMetricFamily(
            "snaketron_matches_formed", "Matches this server formed as the region's matcher.", value=formed
        )
        yield _histogram(
            "snaketron_match_wait_seconds",
            "From QueueForMatch to MatchFound, for this server's players.",
            service.wait_times,
        )

    def _http(self) -> Iterable[Metric]:
        requests = CounterMetricFamily(
            "snaketron_http_requests",
            "HTTP requests answered, by route, method and status.",
            labels=["route", "method", "status"],
        )
        for (route, method, status), count in sorted(self.http_requests.items()):
            requests.add_metric([route, method, status], count)
        yield requests


def _counters(stats: object, table: Iterable[tuple[str, str, str]]) -> Iterator[Metric]:
    for name, documentation, attribute in table:
        yield CounterMetricFamily(name, documentation, value=getattr(stats, attribute))


def _by_label(
    family: type[CounterMetricFamily | GaugeMetricFamily],
    name: str,
    documentation: str,
    label: str,
    counts: Mapping[str, float],
) -> Metric:
    """A metric with one label, a sample per key of `counts`."""
    metric = family(name, documentation, labels=[label])
    for value, count in sorted(counts.items()):
        metric.add_metric([value], count)
    return metric


def _histogram(name: str, documentation: str, buckets: BucketCounts) -> HistogramMetricFamily:
    return HistogramMetricFamily(name, documentation, buckets=buckets.cumulative(), sum_value=buckets.sum)
