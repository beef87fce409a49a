"""Replays of finished games (issue 21): their stored form, the store, the HTTP routes.

The engine records a game's inputs (`snaketron.engine.recording`) and computes them
again (`snaketron.engine.replay`); this package stores a recording compressed in
DynamoDB (`codec`, `store`) and serves it (`api`, `cli`).
"""
