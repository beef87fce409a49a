"""Matched games on the least loaded server of the region, not just the matcher's own.

The region's matcher claims a match, then hands it to a `MatchPlacement`. On a
cluster that is `ClusterMatchPlacement`: it picks the least loaded live active
server (see `placement.py`); when that is another server, it asks it to host the
game with one internal HTTP request (`POST /internal/matches`, authenticated by
the cluster secret) and the host seats and starts it exactly as a single server
would (its own `LocalPlacement`, which also tells the host's own players). This
server then tells its own matched players; players of third servers learn of the
match from their tickets as ever. Each client's `JoinGame` reaches the host,
relayed when need be.

A request that never reached the host (connection refused) falls back to hosting
here; any other failure raises, so the matcher gives the tickets back rather than
risk two games for one match.
"""

from __future__ import annotations

from collections.abc import Callable

import aiohttp
import msgspec
from aiohttp import web

from snaketron.cluster.peers import SECRET_HEADER, secret_matches
from snaketron.cluster.placement import Placement
from snaketron.cluster.registry import ClusterRegistry
from snaketron.db.models import MatchTicket, ServerRecord
from snaketron.logs import get_logger
from snaketron.matchmaking import RULES, FormedMatch, MatchPlacement
from snaketron.matchmaking.placement import Deliver, IsWaiting, PlayersGone

log = get_logger(__name__)

MATCHES_PATH = "/internal/matches"


class HostMatch(msgspec.Struct):
    """A claimed match for another server to host."""

    game_id: int
    queue_key: str
    tickets: list[MatchTicket]


class PlayersGoneAnswer(msgspec.Struct):
    gone: list[int]


_host_match = msgspec.json.Decoder(HostMatch)
_gone_answer = msgspec.json.Decoder(PlayersGoneAnswer)
_encoder = msgspec.json.Encoder()


class ClusterMatchPlacement:
    """`MatchPlacement` for the matcher of a cluster member."""

    def __init__(
        self,
        local: MatchPlacement,
        placement: Placement,
        registry: ClusterRegistry,
        *,
        secret: str,
        deliver: Deliver,
        is_waiting: IsWaiting,
        accepting_games: Callable[[], bool],
        timeout_s: float,
    ) -> None:
        self._local = local
        self._placement = placement
        self._registry = registry
        self._secret = secret
        self._deliver = deliver
        self._is_waiting = is_waiting
        self._accepting_games = accepting_games
        self._timeout = aiohttp.ClientTimeout(total=timeout_s)
        self._http: aiohttp.ClientSession | None = None

    async def place(self, match: FormedMatch, game_id: int) -> None:
        target = self._placement.choose(here_accepts=self._accepting_games())
        if target is None:
            await self._local.place(match, game_id)
            return
        mine = [t for t in match.tickets if t.server_id == self._registry.server_id]
        gone = {t.user_id for t in mine if not self._is_waiting(t)}
        if gone:
            raise PlayersGone(gone)
        try:
            await self._ask(target, HostMatch(game_id=game_id, queue_key=match.rule.key, tickets=list(match.tickets)))
        except aiohttp.ClientConnectorError as exc:
            log.warning("match host unreachable; hosting here", host=target.server_id, error=str(exc))
            await self._local.place(match, game_id)
            return
        self._placement.placed(target.server_id)
        log.info("match placed elsewhere", game_id=game_id, host=target.server_id)
        for ticket in mine:
            self._deliver(ticket, game_id)

    async def _ask(self, target: ServerRecord, request: HostMatch) -> None:
        if self._http is None:
            self._http = aiohttp.ClientSession(timeout=self._timeout)
        async with self._http.post(
            target.api_url + MATCHES_PATH,
            data=_encoder.encode(request),
            headers={SECRET_HEADER: self._secret, "Content-Type": "application/json"},
        ) as response:
            body = await response.read()
            if response.status == 409:
                raise PlayersGone(set(_gone_answer.decode(body).gone))
            if response.status != 200:
                raise RuntimeError(f"server {target.server_id} would not host the match: {response.status}")

    async def close(self) -> None:
        if self._http is not None:
            await self._http.close()
            self._http = None


def add_match_hosting_route(
    app: web.Application, secret: str, local: MatchPlacement, *, accepting_games: Callable[[], bool]
) -> None:
    """`POST /internal/matches`: host a match another server's matcher formed, with this
    server's own placement (which seats, starts and tells this server's players)."""

    async def host_match(request: web.Request) -> web.Response:
        if not secret_matches(secret, request.headers.get(SECRET_HEADER, "")):
            return web.Response(status=403, text="cluster secret required\n")
        if not accepting_games():
            return web.Response(status=503, text="this server is shutting down\n")
        try:
            asked = _host_match.decode(await request.read())
            rule = RULES[asked.queue_key]
        except (msgspec.DecodeError, KeyError):
            return web.Response(status=400, text="not a match\n")
        try:
            await local.place(FormedMatch(rule=rule, tickets=tuple(asked.tickets)), asked.game_id)
        except PlayersGone as exc:
            return web.Response(
                status=409,
                body=_encoder.encode(PlayersGoneAnswer(sorted(exc.user_ids))),
                content_type="application/json",
            )
        return web.json_response({"gameId": asked.game_id})

    app.router.add_post(MATCHES_PATH, host_match)
