"""Why the engine refuses a request. The server maps these to AccessDenied or Error replies."""


class EngineError(Exception):
    """Base of every refusal by the engine; `reason` is safe to show to the client."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class GameFull(EngineError):
    """Every seat of the game is taken."""


class AlreadyStarted(EngineError):
    """Players join or leave only before tick 0."""


class NotEnoughPlayers(EngineError):
    """A non-solo game needs at least two players to start."""


class CommandRejected(EngineError):
    """A command that the sender may not give (not a player, not their snake, ...)."""
