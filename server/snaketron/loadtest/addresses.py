"""Which loopback address each bot connects from.

A server keeps its abuse limits per client address: sign-ins per minute on the
account API (SNAKETRON_API_RATE_PER_MIN) and concurrent WebSocket connections
(SNAKETRON_MAX_CONN_PER_IP). A thousand bots from 127.0.0.1 are a thousand users
behind one address, and those limits refuse them. Real players come from many
addresses, so the load generator does too: Linux routes all of 127.0.0.0/8 to the
loopback interface, and a socket bound to 127.0.0.2 before it connects reaches a
server on 127.0.0.1 from that address. Bots are spread `bots_per_address` to an
address (127.0.0.2, 127.0.0.3, ...), which keeps each address inside the server's
default limits, which stay on.

The spread needs an IPv4 loopback target (a `127.x.x.x` URL) and a system that
binds the extra addresses (Linux does; macOS has only 127.0.0.1 unless aliases are
added): otherwise every bot uses the system's choice, as before.
"""

from __future__ import annotations

import ipaddress
import socket
from urllib.parse import urlsplit

import aiohttp

from snaketron.client import AccountClient

FIRST_SPREAD_ADDRESS = ipaddress.IPv4Address("127.0.0.2")
# HTTP connections each address's session keeps open at most.
CONNECTIONS_PER_ADDRESS = 16


def spread_addresses(target_url: str, bots: int, bots_per_address: int) -> list[str]:
    """The source addresses of a run, in order; empty when the bots do not spread
    (spread off, a target that is not an IPv4 loopback address, or the system cannot
    bind the first extra address)."""
    if bots_per_address <= 0:
        return []
    try:
        target = ipaddress.ip_address(urlsplit(target_url).hostname or "")
    except ValueError:
        return []  # localhost: a name may resolve to ::1, which has no neighbours to spread over
    if not (isinstance(target, ipaddress.IPv4Address) and target.is_loopback):
        return []
    if not can_bind(str(FIRST_SPREAD_ADDRESS)):
        return []
    count = -(-bots // bots_per_address)
    return [str(FIRST_SPREAD_ADDRESS + k) for k in range(count)]


def can_bind(address: str) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        try:
            probe.bind((address, 0))
        except OSError:
            return False
    return True


class SourceAddresses:
    """Each bot's source address and account API client (one HTTP session per address)."""

    def __init__(self, api_url: str, addresses: list[str], bots_per_address: int, timeout: aiohttp.ClientTimeout):
        self.api_url = api_url
        self.addresses = addresses
        self.bots_per_address = bots_per_address
        self.timeout = timeout
        self._accounts: dict[str | None, AccountClient] = {}
        self._sessions: list[aiohttp.ClientSession] = []

    def address_of(self, bot_index: int) -> str | None:
        """The bot's source address; None: the system's choice (no spread)."""
        if not self.addresses:
            return None
        return self.addresses[bot_index // self.bots_per_address]

    def local_addr(self, bot_index: int) -> tuple[str, int] | None:
        address = self.address_of(bot_index)
        return None if address is None else (address, 0)

    def accounts_of(self, bot_index: int) -> AccountClient:
        address = self.address_of(bot_index)
        accounts = self._accounts.get(address)
        if accounts is None:
            limit = CONNECTIONS_PER_ADDRESS if self.addresses else 64
            connector = aiohttp.TCPConnector(limit=limit, local_addr=self.local_addr(bot_index))
            session = aiohttp.ClientSession(timeout=self.timeout, connector=connector)
            self._sessions.append(session)
            accounts = self._accounts[address] = AccountClient(self.api_url, session)
        return accounts

    async def close(self) -> None:
        for session in self._sessions:
            await session.close()
        self._sessions.clear()
        self._accounts.clear()
