"""SnakeTron game server: authoritative multiplayer Snake over WebSocket, persisted in DynamoDB."""

__version__ = "0.1.0"
