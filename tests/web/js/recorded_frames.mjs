// Recorded server frames, read as the browser client reads them: each must be a
// GameEvent; returns the GameEventMessage with its event's tag and payload.

import { JS } from "./paths.mjs";

const { decodeServerMessage, variantOf } = await import(`${JS}protocol.js`);

export function gameEventOf(frame) {
  const message = decodeServerMessage(frame);
  if (message.type !== "GameEvent") throw new Error(`unexpected frame ${message.type}`);
  const [tag, payload] = variantOf(message.value.event);
  return { event: message.value, tag, payload };
}
