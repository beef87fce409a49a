// Waiting in matchmaking: position and estimated wait (QueueUpdate), and leaving.

import { byId } from "../dom.js";
import { describeGameType } from "../protocol.js";

export class QueueScreen {
  constructor(actions) {
    this.root = byId("screen-queue");
    byId("leave-queue").addEventListener("click", () => actions.leaveQueue());
  }

  show(gameType) {
    this.root.hidden = false;
    byId("queue-type").textContent = describeGameType(gameType);
    byId("queue-status").textContent = "Waiting for players…";
  }

  hide() {
    this.root.hidden = true;
  }

  update({ position, estimated_wait_seconds: wait }) {
    byId("queue-status").textContent = `Position ${position} in the queue, about ${wait} s to wait.`;
  }
}
