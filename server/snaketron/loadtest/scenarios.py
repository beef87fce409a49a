"""Who plays what with whom: the plan of a run's bots and one round of each role.

A role is played in rounds, one game each, until the run stops. Lobby roles are
planned in groups (2 for a duel, 6 for a free-for-all) of consecutive bots, so a
group ramps up together: its first bot hosts (creates the lobby, publishes the
code to the group, starts once everyone is in), the others join by that code.
Spectators watch games that players of the same run are playing.
"""

from __future__ import annotations

import asyncio
import random
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING

from snaketron import protocol
from snaketron.engine import DUEL, CustomGameSettings, GameType, mode_free_for_all, type_free_for_all, type_team_match
from snaketron.loadtest.bot import DATABASE_REPLY_TIMEOUT_S, Bot, BotFailure, error_kind
from snaketron.loadtest.options import FFA_PLAYERS, LoadTestOptions, Role

if TYPE_CHECKING:
    from snaketron.loadtest.runner import RunContext

LOBBY_FILL_TIMEOUT_S = 30.0
LOBBY_CODE_TIMEOUT_S = 60.0
QUEUE_TIMEOUT_S = 60.0
SPECTATE_WAIT_S = 30.0

# The bot weights of each scenario but `mix` (which takes its weights from the options).
SCENARIO_WEIGHTS: dict[str, dict[Role, int]] = {
    "solo": {Role.SOLO: 1},
    "matchmaking": {Role.MATCH_DUEL: 1, Role.MATCH_FFA: 1},
    "lobby": {Role.LOBBY_DUEL: 1, Role.LOBBY_FFA: 3},
    # Solo games are private and admit no spectators (as the original server's): the
    # spectators watch public lobby duels.
    "spectate": {Role.LOBBY_DUEL: 2, Role.SPECTATE: 2},
}


class LobbyGroup:
    """Bots that play custom lobbies together, round after round."""

    def __init__(self, role: Role) -> None:
        self.role = role
        self.size = role.group_size
        self.round = 0
        self.code = ""
        self.stopped = False
        self._changed = asyncio.Condition()

    async def publish(self, code: str) -> None:
        async with self._changed:
            self.round += 1
            self.code = code
            self._changed.notify_all()

    async def next_code(self, after_round: int, timeout_s: float) -> tuple[int, str]:
        """The code of the first round after `after_round`."""
        async with self._changed:
            try:
                await asyncio.wait_for(
                    self._changed.wait_for(lambda: self.round > after_round or self.stopped), timeout_s
                )
            except TimeoutError:
                raise BotFailure("timeout:lobby_code") from None
            if self.round <= after_round:
                raise BotFailure("stopped")
            return self.round, self.code

    async def stop(self) -> None:
        async with self._changed:
            self.stopped = True
            self._changed.notify_all()


class LiveGames:
    """Public games local players are in, for spectators to pick from."""

    def __init__(self) -> None:
        self._games: dict[int, int] = {}  # game id -> local spectators sent to it
        self._changed = asyncio.Event()
        self.stopped = False

    def add(self, game_id: int) -> None:
        self._games.setdefault(game_id, 0)
        self._changed.set()

    def remove(self, game_id: int) -> None:
        self._games.pop(game_id, None)

    async def pick(self, timeout_s: float) -> int:
        """The live game with the fewest spectators so far (waits for one to exist)."""
        deadline = time.monotonic() + timeout_s
        while not self._games:
            remaining = deadline - time.monotonic()
            if self.stopped:
                raise BotFailure("stopped")
            if remaining <= 0:
                raise BotFailure("timeout:no_game_to_watch")
            self._changed.clear()
            try:
                await asyncio.wait_for(self._changed.wait(), remaining)
            except TimeoutError:
                pass
        game_id = min(self._games, key=self._games.__getitem__)
        self._games[game_id] += 1
        return game_id

    def stop(self) -> None:
        self.stopped = True
        self._changed.set()


@dataclass
class BotPlan:
    role: Role
    group: LobbyGroup | None = None
    is_host: bool = False


def plan_bots(options: LoadTestOptions) -> list[BotPlan]:
    """Roles for bots 0..N-1 in proportion to the weights (in bots); when no group fits
    in the bots that are left, they play solo."""
    weights = options.mix if options.scenario == "mix" else SCENARIO_WEIGHTS[options.scenario]
    weights = {role: weight for role, weight in weights.items() if weight > 0}
    total = sum(weights.values())
    assigned = dict.fromkeys(weights, 0)
    plans: list[BotPlan] = []
    while len(plans) < options.bots:
        # Of the roles whose group still fits, the one furthest behind its share.
        fitting = [r for r in weights if len(plans) + r.group_size <= options.bots]
        if not fitting:
            plans.append(BotPlan(Role.SOLO))
            continue
        role = max(fitting, key=lambda r: weights[r] / total * (len(plans) + r.group_size) - assigned[r])
        assigned[role] += role.group_size
        if role.group_size == 1:
            plans.append(BotPlan(role))
            continue
        group = LobbyGroup(role)
        plans.extend(BotPlan(role, group, is_host=(k == 0)) for k in range(role.group_size))
    return plans


# --- one round of each role ---------------------------------------------------------------


async def play_round(bot: Bot, plan: BotPlan) -> None:
    role = plan.role
    if role is Role.SOLO:
        await _solo(bot)
    elif role in (Role.LOBBY_DUEL, Role.LOBBY_FFA):
        assert plan.group is not None
        if plan.is_host:
            await _host_lobby(bot, plan.group)
        else:
            await _join_lobby(bot, plan.group)
    elif role is Role.MATCH_DUEL:
        await _matchmade(bot, type_team_match(1), role.value)
    elif role is Role.MATCH_FFA:
        await _matchmade(bot, type_free_for_all(FFA_PLAYERS), role.value)
    else:
        await _spectate(bot)


async def _solo(bot: Bot) -> None:
    await bot.send(protocol.CreateSoloGame())
    created = await bot.reply(protocol.SoloGameCreated, "solo_created", DATABASE_REPLY_TIMEOUT_S)
    bot.enter(created.game_id, player=True)
    await bot.send(protocol.JoinGame(game_id=created.game_id))
    await bot.play_to_the_end(Role.SOLO.value)


def lobby_settings(role: Role) -> CustomGameSettings:
    # Public, so that the run's spectators may watch without the code.
    if role is Role.LOBBY_DUEL:
        return CustomGameSettings(game_mode=DUEL, max_players=2, is_private=False)
    return CustomGameSettings(game_mode=mode_free_for_all(FFA_PLAYERS), max_players=FFA_PLAYERS, is_private=False)


async def _host_lobby(bot: Bot, group: LobbyGroup) -> None:
    await bot.send(protocol.CreateCustomGame(settings=lobby_settings(group.role)))
    # The reader entered the game as this arrived.
    created = await bot.reply(protocol.CustomGameCreated, "lobby_created", DATABASE_REPLY_TIMEOUT_S)
    await group.publish(created.game_code)
    players = await bot.wait_lobby_players(group.size, LOBBY_FILL_TIMEOUT_S)
    if players < 2:
        await bot.send(protocol.LeaveGame())
        bot.leave()
        raise BotFailure("timeout:lobby_fill")
    await bot.send(protocol.StartCustomGame())
    bot.ctx.live_games.add(created.game_id)
    await bot.play_to_the_end(group.role.value)


async def _join_lobby(bot: Bot, group: LobbyGroup) -> None:
    bot.lobby_round, code = await group.next_code(bot.lobby_round, LOBBY_CODE_TIMEOUT_S)
    await bot.send(protocol.JoinCustomGame(game_code=code))
    await bot.reply(protocol.CustomGameJoined, "lobby_joined")  # the reader entered the game
    # The wait includes the lobby filling up: the host starts within LOBBY_FILL_TIMEOUT_S.
    await bot.play_to_the_end(group.role.value)


async def _matchmade(bot: Bot, game_type: GameType, kind: str) -> None:
    queued = time.perf_counter()
    await bot.send(protocol.QueueForMatch(game_type=game_type))
    found = await bot.reply(protocol.MatchFound, "match_found", QUEUE_TIMEOUT_S)
    bot.ctx.metrics.latency["queue_to_match"].record_ms((time.perf_counter() - queued) * 1000)
    bot.enter(found.game_id, player=True)
    bot.ctx.live_games.add(found.game_id)
    await bot.send(protocol.JoinGame(game_id=found.game_id))
    await bot.play_to_the_end(kind)


async def _spectate(bot: Bot) -> None:
    game_id = await bot.ctx.live_games.pick(SPECTATE_WAIT_S)
    bot.enter(game_id, player=False)
    await bot.send(protocol.SpectateGame(game_id=game_id))
    await bot.reply(protocol.SpectatorJoined, "spectator_joined")
    await bot.play_to_the_end(Role.SPECTATE.value)


# --- a bot's life -------------------------------------------------------------------------

# Bounds on one bot's loop, whatever happens: rounds, and the pause after a failure.
MAX_ROUNDS = 100_000
RETRY_PAUSE_S = (0.5, 1.5)


async def run_bot(bot: Bot, plan: BotPlan, ctx: RunContext) -> None:
    metrics = ctx.metrics
    metrics.bots_running += 1
    try:
        for _ in range(MAX_ROUNDS):
            if ctx.stopping.is_set():
                return
            try:
                if not bot.connected:
                    await bot.close()
                    await bot.connect()
                metrics.attempts += 1
                await play_round(bot, plan)
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                kind = error_kind(exc)
                if kind == "stopped" or (ctx.stopping.is_set() and kind.startswith(("timeout:", "disconnected:"))):
                    return  # the run is over: waits cut short are not the server's errors
                metrics.error(kind)
                await bot.close()
                try:
                    await asyncio.wait_for(ctx.stopping.wait(), random.uniform(*RETRY_PAUSE_S))
                except TimeoutError:
                    pass
    finally:
        metrics.bots_running -= 1
        await bot.close()
