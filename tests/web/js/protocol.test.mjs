import assert from "node:assert/strict";
import { test } from "node:test";
import { JS } from "./paths.mjs";

const P = await import(`${JS}protocol.js`);
const { ClientMessage: C, encodeClientMessage: encode } = P;

test("client messages use serde external tagging (PROTOCOL.md)", () => {
  const cases = [
    [C.token("abc"), '{"Token":"abc"}'],
    [C.ping(), '"Ping"'],
    [C.clockSyncRequest(1732700000000.4), '{"ClockSyncRequest":{"client_time":1732700000000}}'],
    [C.queueForMatch(P.GameType.freeForAll(4)), '{"QueueForMatch":{"game_type":{"FreeForAll":{"max_players":4}}}}'],
    [C.queueForMatch(P.GameType.teamMatch(1)), '{"QueueForMatch":{"game_type":{"TeamMatch":{"per_team":1}}}}'],
    [C.leaveQueue(), '"LeaveQueue"'],
    [C.joinGame(17), '{"JoinGame":17}'],
    [C.leaveGame(), '"LeaveGame"'],
    [C.createCustomGame(), '{"CreateCustomGame":{"settings":{}}}'],
    [C.createCustomGame({ arena_width: 50 }), '{"CreateCustomGame":{"settings":{"arena_width":50}}}'],
    [C.joinCustomGame("AB12"), '{"JoinCustomGame":{"game_code":"AB12"}}'],
    [C.updateCustomGameSettings({ game_mode: "Duel" }), '{"UpdateCustomGameSettings":{"settings":{"game_mode":"Duel"}}}'],
    [C.startCustomGame(), '"StartCustomGame"'],
    [C.spectateGame(5), '{"SpectateGame":{"game_id":5,"game_code":null}}'],
    [C.spectateGame(0, "XY"), '{"SpectateGame":{"game_id":0,"game_code":"XY"}}'],
    [C.createSoloGame(), '"CreateSoloGame"'],
    [C.chat("hi"), '{"Chat":"hi"}'],
  ];
  for (const [message, json] of cases) assert.equal(encode(message), json);
});

test("a turn carries the client tick stamp and may leave out snake_id", () => {
  const withSnake = P.turnCommand({ tick: 12, userId: 7, sequenceNumber: 3, direction: "Up", snakeId: 1 });
  assert.equal(
    encode(C.gameCommand(withSnake)),
    '{"GameCommand":{"command_id_client":{"tick":12,"user_id":7,"sequence_number":3},' +
      '"command_id_server":null,"command":{"Turn":{"direction":"Up","snake_id":1}}}}',
  );
  const without = P.turnCommand({ tick: 0, userId: 1, sequenceNumber: 1, direction: "Left" });
  assert.deepEqual(without.command, { Turn: { direction: "Left" } });
});

test("server messages decode to type and payload", () => {
  assert.deepEqual(P.decodeServerMessage('"Pong"'), { type: "Pong", value: null });
  assert.deepEqual(P.decodeServerMessage('{"JoinGame": 9}'), { type: "JoinGame", value: 9 });
  assert.deepEqual(P.decodeServerMessage('{"AccessDenied": {"reason": "full"}}'), {
    type: "AccessDenied",
    value: { reason: "full" },
  });
  assert.throws(() => P.decodeServerMessage("{not json"), P.ProtocolError);
  assert.throws(() => P.decodeServerMessage('{"A": 1, "B": 2}'), P.ProtocolError);
});

test("a snapshot's u64 rng state survives parsing exactly", () => {
  const text = '{"GameEvent":{"event":{"Snapshot":{"game_state":{"rng": {"state": 18446744073709551557},"tick":3}}}}}';
  const { value } = P.decodeServerMessage(text);
  assert.equal(value.event.Snapshot.game_state.rng.state, "18446744073709551557");
  assert.equal(value.event.Snapshot.game_state.tick, 3);
  assert.equal(P.parseWireJson('{"rng":null}').rng, null);
});

test("statuses and game types read as documented", () => {
  assert.deepEqual(P.readStatus("Stopped"), { kind: "Stopped", winningSnakeId: null });
  assert.deepEqual(P.readStatus({ Started: { server_id: 1 } }), { kind: "Started", winningSnakeId: null });
  assert.deepEqual(P.readStatus({ Complete: { winning_snake_id: 2 } }), { kind: "Complete", winningSnakeId: 2 });
  assert.equal(P.describeGameType("Solo"), "Solo");
  assert.equal(P.describeGameType({ TeamMatch: { per_team: 1 } }), "Duel (1 v 1)");
  assert.equal(P.isMatchmadeType({ FreeForAll: { max_players: 2 } }), true);
  assert.equal(P.isMatchmadeType("Solo"), false);
});
