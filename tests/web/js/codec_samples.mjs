// Prints every client message the browser client can send, encoded by its codec, and
// the client's reading of the server frames given on stdin; the Python test checks
// both against snaketron.protocol (tests/web/test_codec_matches_server.py).

import { JS } from "./paths.mjs";

const P = await import(`${JS}protocol.js`);
const C = P.ClientMessage;

const clientMessages = [
  C.token("header.payload.signature"),
  C.ping(),
  C.clockSyncRequest(1732700000000),
  C.queueForMatch(P.GameType.freeForAll(10)),
  C.queueForMatch(P.GameType.teamMatch(3)),
  C.leaveQueue(),
  C.joinGame(4294967295),
  C.leaveGame(),
  C.gameCommand(P.turnCommand({ tick: 12, userId: 7, sequenceNumber: 3, direction: "Up", snakeId: 1 })),
  C.gameCommand(P.turnCommand({ tick: 0, userId: 7, sequenceNumber: 4, direction: "Left" })),
  C.createCustomGame(),
  C.createCustomGame({ ...P.CUSTOM_SETTINGS_DEFAULTS }),
  C.joinCustomGame("K7Q2"),
  C.updateCustomGameSettings({ arena_width: 60, game_mode: "Duel", is_private: false }),
  C.updateCustomGameSettings({ game_mode: { FreeForAll: { max_players: 6 } }, max_players: 6 }),
  C.startCustomGame(),
  C.spectateGame(5),
  C.spectateGame(0, "K7Q2"),
  C.createSoloGame(),
  C.chat("gg"),
];

let input = "";
for await (const chunk of process.stdin) input += chunk;
const serverFrames = JSON.parse(input);
process.stdout.write(
  JSON.stringify({
    client: clientMessages.map(P.encodeClientMessage),
    server: serverFrames.map((frame) => P.decodeServerMessage(frame).type),
  }),
);
