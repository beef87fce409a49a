"""`snaketron loadtest`: headless bots that play real games against a running server.

`options` (what to run, local targets only), `metrics` (HDR histograms and
counters), `mirror` (the bots' local copy of a game and the pilot that steers),
`bot` (one client connection), `scenarios` (who plays what with whom), `runner`
(ramp, duration, stop), `report` (table and JSON), `cli` (the command).
"""
