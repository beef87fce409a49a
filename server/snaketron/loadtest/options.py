"""What a load test runs, and the rule that it only ever targets this machine."""

from __future__ import annotations

import enum
from urllib.parse import urlsplit

import msgspec

# Load and network tests only touch the loopback interface (no other address is ours).
LOCAL_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})


class Role(enum.Enum):
    """What one bot does, game after game."""

    SOLO = "solo"
    LOBBY_DUEL = "lobby-duel"  # custom lobby, Duel mode: host creates, one joins by code
    LOBBY_FFA = "lobby-ffa"  # custom lobby, 6-player free-for-all
    MATCH_DUEL = "match-duel"  # matchmaking, TeamMatch 1 per team
    MATCH_FFA = "match-ffa"  # matchmaking, FreeForAll of 6
    SPECTATE = "spectate"  # watches games the other bots of this run play

    @property
    def group_size(self) -> int:
        """Bots that play one game together and are planned together (lobbies only)."""
        return {Role.LOBBY_DUEL: 2, Role.LOBBY_FFA: FFA_PLAYERS}.get(self, 1)

    @property
    def uses_matchmaking(self) -> bool:
        return self in (Role.MATCH_DUEL, Role.MATCH_FFA)


FFA_PLAYERS = 6

SCENARIOS = ("solo", "matchmaking", "lobby", "spectate", "mix")

# The weighted mix, in bots: solo players, lobby players, matchmade players, spectators.
DEFAULT_MIX: dict[Role, int] = {
    Role.SOLO: 2,
    Role.LOBBY_DUEL: 2,
    Role.LOBBY_FFA: 2,
    Role.MATCH_DUEL: 2,
    Role.MATCH_FFA: 1,
    Role.SPECTATE: 1,
}


# 10 bots sign in well within a minute's SNAKETRON_API_RATE_PER_MIN (60), however
# short the run; 50 needed most of a minute per address, and a short run saw 429s.
DEFAULT_BOTS_PER_ADDRESS = 10


class LoadTestOptions(msgspec.Struct, kw_only=True):
    ws_url: str
    api_url: str
    bots: int = 10
    ramp_per_s: float = 10.0  # bots started per second
    # The whole run, from the first bot's start: ramp, play, and the last finish_grace_s
    # in which no new game begins (with sign_in_first, the sign-in before it is not counted).
    duration_s: float = 60.0
    scenario: str = "mix"
    mix: dict[Role, int] = msgspec.field(default_factory=lambda: dict(DEFAULT_MIX))
    # A bot steers for at most this long per game, then lets its snake run into a
    # wall: games end by themselves, so every loop is bounded in time.
    game_seconds: float = 30.0
    # Besides avoiding what is ahead, a bot thinks about food every this many ticks (0: never).
    think_ticks: int = 20
    user_prefix: str = "loadbot"
    password: str = "loadbot-secret"
    max_error_rate: float = 0.01
    # Sign every bot in (HTTP) before the ramp, a few at a time, so that the ramp
    # measures the game server and not the account store.
    sign_in_first: bool = False
    # Command and event latencies of the first seconds after the ramp are discarded (0: keep all).
    warmup_s: float = 0.0
    # The end of the duration: no new game begins, games under way may finish; bots still
    # playing when the duration is over are cut off (not errors: their plays count as started).
    finish_grace_s: float = 10.0
    # Bots per loopback source address (127.0.0.2, ...), so that each address stays within
    # the server's per-address limits; 0: every bot connects from the system's choice.
    bots_per_address: int = DEFAULT_BOTS_PER_ADDRESS
    json_path: str | None = None
    progress: bool = True

    def check(self) -> None:
        """Raises ValueError for options that cannot run (or that target another machine)."""
        for name, url, schemes in (
            ("ws-url", self.ws_url, ("ws", "wss")),
            ("api-url", self.api_url, ("http", "https")),
        ):
            parts = urlsplit(url)
            if parts.scheme not in schemes:
                raise ValueError(f"--{name} must be a {' or '.join(schemes)} URL, not {url!r}")
            if (parts.hostname or "") not in LOCAL_HOSTS:
                raise ValueError(f"--{name}: a load test only targets this machine (127.0.0.1, localhost), not {url!r}")
        if self.scenario not in SCENARIOS:
            raise ValueError(f"unknown scenario {self.scenario!r}; one of {', '.join(SCENARIOS)}")
        if not 1 <= self.bots <= 20_000:
            raise ValueError("--bots must be between 1 and 20000")
        if not 0 < self.ramp_per_s <= 10_000:
            raise ValueError("--ramp must be between 0 and 10000 bots per second")
        if not 0 < self.duration_s <= 24 * 3600:
            raise ValueError("--duration must be between 0 and 86400 seconds")
        if not 0 <= self.finish_grace_s < self.duration_s:
            raise ValueError("--finish-grace must be at least 0 and shorter than --duration (it is a part of it)")
        ramp_s = (self.bots - 1) / self.ramp_per_s
        if ramp_s >= self.duration_s - self.finish_grace_s:
            raise ValueError(
                f"{self.bots} bots at --ramp {self.ramp_per_s:g}/s take {ramp_s:.0f} s to start: "
                f"make --duration longer than that plus --finish-grace ({self.finish_grace_s:g} s)"
            )
        if self.bots_per_address < 0:
            raise ValueError("--bots-per-address must be 0 (no spread) or more")
        if not 0 < self.game_seconds <= 3600:
            raise ValueError("--game-seconds must be between 0 and 3600")
        if self.scenario == "mix" and sum(self.mix.values()) <= 0:
            raise ValueError("--mix needs at least one positive weight")


def parse_mix(text: str) -> dict[Role, int]:
    """`solo=2,lobby-duel=1,...` -> weights; unnamed roles weigh 0."""
    weights = dict.fromkeys(Role, 0)
    for part in filter(None, (p.strip() for p in text.split(","))):
        name, _, value = part.partition("=")
        try:
            role = Role(name.strip())
            weight = int(value)
        except ValueError:
            raise ValueError(
                f"bad --mix entry {part!r}; use ROLE=WEIGHT with ROLE one of {[r.value for r in Role]}"
            ) from None
        if weight < 0:
            raise ValueError(f"--mix weights are not negative: {part!r}")
        weights[role] = weight
    return weights
