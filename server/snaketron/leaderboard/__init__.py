"""Leaderboards, seasons, player profiles and match history (docs/DATA_MODEL.md,
"Leaderboards and profiles").

- `seasons`: calendar seasons and the soft reset (pure).
- `keys`: every key, sort key and rating bucket of these items (pure).
- `plan`: what one finished game changes, as items and counter deltas (pure).
- `recorder`: `LeaderboardRecorder.record(result)` writes that plan (2 requests).
- `reader`: board pages, exact ranks, profiles and history pages.
- `routes`: the HTTP endpoints under /api/leaderboard and /api/players.
"""
