"""The cluster: many server processes acting as one service, sharing only DynamoDB.

- `registry`: this server's `SERVER#<id>` item, heartbeats, the cached live view of
  the region, and the sweep of servers that stopped heartbeating (`sweep`).
- `placement`: the least loaded live active server for a new game.
- `peers` / `relay` / `routing`: a client connected here whose game lives on another
  server is relayed to it over an internal WebSocket authenticated by the cluster
  secret; the host handles it like a local client.
- `servers_api`: `GET /api/servers?region=...`.
- `node`: the composition the game server builds.
"""

from snaketron.cluster.node import ClusterNode
from snaketron.cluster.peers import RELAY_PATH

__all__ = ["RELAY_PATH", "ClusterNode"]
