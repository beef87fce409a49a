"""Where a new game goes: the least loaded live `active` server of the region.

Load is (games, players), as the registry's cached view reports them, with two
corrections so a burst of creations between two heartbeats still spreads:
- this server's own load is read live from its game host;
- every game this server placed elsewhere counts on its target until the target's
  next heartbeat (which then includes it).
Ties go to this server (no relay needed), then to the lowest server id.
"""

from __future__ import annotations

from collections.abc import Callable

from snaketron.cluster.registry import ClusterRegistry, Load
from snaketron.db.models import ServerRecord
from snaketron.logs import get_logger

log = get_logger(__name__)


class Placement:
    def __init__(self, registry: ClusterRegistry, local_load: Load, *, clock_ms: Callable[[], int]) -> None:
        self._registry = registry
        self._local_load = local_load
        self._clock_ms = clock_ms
        self._placed: dict[int, list[int]] = {}  # server id -> when we placed games there (ms)

    def choose(self, *, here_accepts: bool = True) -> ServerRecord | None:
        """The server for a new game; None means this one (also when nothing better is known)."""
        me = self._registry.server_id
        others = [
            s for s in self._registry.live_servers() if s.server_id != me and s.status == "active" and s.internal_url
        ]
        if here_accepts and not others:
            return None  # alone in the region: no need to count this server's load
        best: tuple[int, int, int, int] | None = None
        chosen: ServerRecord | None = None
        if here_accepts:
            games, players = self._local_load()
            best = (games, players, 0, me)
        for server in others:
            pending = self._pending(server)  # each placed game has at least its creator
            games = server.current_game_count + pending
            if 0 < server.max_game_capacity <= games:
                continue
            key = (games, server.current_player_count + pending, 1, server.server_id)
            if best is None or key < best:
                best, chosen = key, server
        log.debug("placement", chosen=chosen.server_id if chosen else me, key=best)
        return chosen

    def placed(self, server_id: int) -> None:
        """A game was just placed on `server_id` (the host has created it): count it there
        until a heartbeat of the host that is later than now."""
        self._placed.setdefault(server_id, []).append(self._clock_ms())

    def _pending(self, server: ServerRecord) -> int:
        stamps = self._placed.get(server.server_id)
        if not stamps:
            return 0
        # Placements older than its last heartbeat are in its count already.
        stamps[:] = [t for t in stamps if t >= server.last_heartbeat_ms]
        return len(stamps)
