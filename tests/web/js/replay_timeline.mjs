// Harness for tests/web/test_replay_viewer.py: reads a replay (the JSON of GET
// /api/games/<id>/replay) on stdin, builds the viewer's timeline and prints, per tick,
// the board it would draw (describeSim), plus the markers.
import { JS } from "./paths.mjs";

const { buildTimeline, ReplayClock } = await import(`${JS}replay.js`);
const { describeSim } = await import(`${JS}rules.js`);

let input = "";
for await (const chunk of process.stdin) input += chunk;
const timeline = buildTimeline(JSON.parse(input));
const clock = new ReplayClock(timeline.finalTick);
clock.speed = 4;
clock.play();
clock.advance(timeline.tickMs * 2, timeline.tickMs); // 4x: two ticks of time move eight
const afterPlay = clock.tick;
clock.seek(timeline.finalTick + 50);
process.stdout.write(
  JSON.stringify({
    finalTick: timeline.finalTick,
    names: timeline.names,
    frames: timeline.frames.map((sim) => {
      const d = describeSim(sim);
      return { tick: d.tick, snakes: d.snakes.map((s) => [s.body, s.is_alive]), food: d.food };
    }),
    markers: timeline.markers,
    afterPlay,
    seekClamped: clock.tick,
  }),
);
