// The leaderboard and player pages' pure parts: the board query, the "your rank" line,
// durations and rating changes as shown.

import assert from "node:assert/strict";
import { test } from "node:test";
import { JS } from "./paths.mjs";

const { boardQuery } = await import(`${JS}api.js`);
const board = await import(`${JS}screens/leaderboard.js`);
const profile = await import(`${JS}screens/profile.js`);

test("a board query names the type, and the season and region only when chosen", () => {
  assert.equal(boardQuery({ gameType: "duel", season: "", region: "" }), "game_type=duel");
  assert.equal(boardQuery({ gameType: "solo", season: "2026-12", region: "eu west" }), "game_type=solo&season=2026-12&region=eu+west");
});

test("the rank line says where the player stands, or that they are not on the board", () => {
  assert.equal(board.describeMyRank({ rank: null }, "duel"), "You are not on this board yet.");
  assert.equal(board.describeMyRank(null, "duel"), "You are not on this board yet.");
  assert.equal(
    board.describeMyRank({ rank: 7, mmr: 1234, wins: 3, losses: 1, winRate: 75 }, "duel"),
    "Your rank: #7 · rating 1234 · 3 W / 1 L (75%)",
  );
  assert.equal(board.describeMyRank({ rank: 2, score: 40 }, "solo"), "Your rank: #2 · best length 40");
});

test("history rows show durations and rating changes", () => {
  assert.equal(profile.formatDuration(185_000), "3:05");
  assert.equal(profile.formatDuration(-5), "0:00");
  assert.equal(profile.formatChange(12), "+12");
  assert.equal(profile.formatChange(-8), "-8");
  assert.equal(profile.formatChange(0), "0");
  assert.equal(profile.formatChange(null), "");
});
