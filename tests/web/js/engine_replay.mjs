// Replays games recorded from the Python engine through the client's JS rules, the
// way the browser receives them, and prints what the client computes; the Python test
// (tests/web/test_rules_match_engine.py) compares that with the engine tick by tick.
//
// stdin: {"scenarios": [{"name", "ticks": [{"tick", "frames": [<GameEvent frame text>]}]}]}
//   `frames` of a tick are every frame the server sent while scheduling commands for
//   it and computing it, in order. The first tick's frames start with the join Snapshot.
// stdout: {"scenarios": [{"name", "predicted": [...], "replayed": [...]}]}
//   predicted: per tick T, the GamePredictor's state at T+1 after the frames through T
//              (snapshots re-base it, CommandScheduled feed it).
//   replayed:  per tick T, the rules run from the first snapshot alone, with each
//              command added when the server scheduled it: the state after T and the
//              events T emitted (without Snapshot and CommandScheduled).

import { JS } from "./paths.mjs";
import { gameEventOf } from "./recorded_frames.mjs";

const { GamePredictor } = await import(`${JS}prediction.js`);
const { computeTick, describeSim, simFromState } = await import(`${JS}rules.js`);

function replayScenario(scenario) {
  const predictor = new GamePredictor();
  let sim = null;
  const predicted = [];
  const replayed = [];
  for (const { tick, frames } of scenario.ticks) {
    for (const frame of frames) {
      const { event, tag, payload } = gameEventOf(frame);
      predictor.onEvent(event);
      if (tag === "Snapshot" && sim === null) sim = simFromState(payload.game_state);
      else if (tag === "CommandScheduled" && sim !== null) sim.queue.push(payload.command_message);
    }
    const p = describeSim(predictor.stateAt(tick + 1));
    predicted.push(p);
    if (sim.tick !== tick) throw new Error(`replay is at tick ${sim.tick}, expected ${tick}`);
    const events = computeTick(sim);
    replayed.push({ ...describeSim(sim), events });
  }
  return { name: scenario.name, predicted, replayed, mispredictions: predictor.mispredictions };
}

let input = "";
for await (const chunk of process.stdin) input += chunk;
const { scenarios } = JSON.parse(input);
process.stdout.write(JSON.stringify({ scenarios: scenarios.map(replayScenario) }));
