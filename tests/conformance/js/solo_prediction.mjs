// Feeds the frames of a real solo game, in the order the server sent them, to the
// browser client's own prediction (server/snaketron/web/static/js/prediction.js) and
// reports when the client would show the game as over.
//
// stdin:  {"frames": [<GameEvent frame text>, ...]}  from the join Snapshot to game over
// stdout: {"end_rule", "predicted_end_tick", "server_end_tick", "mispredictions"}
//   end_rule:           how the client reads the game type ("solo" for a solo game)
//   predicted_end_tick: the first tick the prediction computes as the game's last, as
//                       seen after any frame (null if it never ends the game)
//   server_end_tick:    the tick of the server's StatusUpdated Complete

import { JS } from "../../web/js/paths.mjs";
import { gameEventOf } from "../../web/js/recorded_frames.mjs";

const { variantOf } = await import(`${JS}protocol.js`);
const { GamePredictor } = await import(`${JS}prediction.js`);
const { simFromState } = await import(`${JS}rules.js`);

// The client shows real time: the server's committed state runs 5 ticks behind it,
// so after a frame of tick T the screen is about T + 6.
const SHOWN_AHEAD_TICKS = 6;

let input = "";
for await (const chunk of process.stdin) input += chunk;
const { frames } = JSON.parse(input);

const predictor = new GamePredictor();
let endRule = null;
let predictedEndTick = null;
let serverEndTick = null;
for (const frame of frames) {
  const { event, tag, payload } = gameEventOf(frame);
  predictor.onEvent(event);
  if (tag === "Snapshot" && endRule === null) endRule = simFromState(payload.game_state).endRule;
  if (tag === "StatusUpdated" && variantOf(payload.status)[0] === "Complete") serverEndTick = event.tick;
  const sim = predictor.stateAt(Math.max(predictor.serverTick, 0) + SHOWN_AHEAD_TICKS);
  if (predictedEndTick === null && variantOf(sim.status)[0] === "Complete") {
    predictedEndTick = sim.tick - 1; // the sim stops after computing the game's last tick
  }
}
process.stdout.write(
  JSON.stringify({
    end_rule: endRule,
    predicted_end_tick: predictedEndTick,
    server_end_tick: serverEndTick,
    mispredictions: predictor.mispredictions,
  }),
);
