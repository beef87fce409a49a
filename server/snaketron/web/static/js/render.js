// Drawing the arena on a canvas: field, team zones with walls and goals, food and
// snakes (distinct colours, names over the heads). Between two ticks the heads and
// tails glide from one cell to the next, so 10 Hz ticks look smooth at 60 frames/s.

const PALETTE = [
  "#4fc3f7", "#ff8a65", "#aed581", "#ba68c8", "#ffd54f",
  "#4db6ac", "#f06292", "#9575cd", "#e57373", "#81c784",
  "#64b5f6", "#ffb74d", "#a1887f", "#90a4ae", "#dce775", "#4dd0e1",
];
const TEAM_PALETTES = [
  ["#42a5f5", "#90caf9", "#1e88e5", "#bbdefb", "#1565c0"],
  ["#ff7043", "#ffab91", "#f4511e", "#ffccbc", "#d84315"],
];
const TEAM_ZONE_TINT = ["rgba(66, 165, 245, 0.12)", "rgba(255, 112, 67, 0.12)"];
const GOAL_TINT = ["rgba(66, 165, 245, 0.45)", "rgba(255, 112, 67, 0.45)"];

/** The colour of a snake: its team's shades in team games, else one of 16 hues. */
export function snakeColour(snakeId, teamId) {
  if (teamId === 0 || teamId === 1) {
    const shades = TEAM_PALETTES[teamId];
    return shades[Math.floor(snakeId / 2) % shades.length];
  }
  return PALETTE[snakeId % PALETTE.length];
}

const lerp = (a, b, t) => a + (b - a) * t;

/**
 * The points to draw for a snake between tick states `prev` and `next` at `alpha`
 * (0..1): the head slides from its old cell to the new one, the tail likewise.
 */
export function interpolatedBody(prevBody, nextBody, alpha) {
  if (!prevBody) return nextBody.map((p) => ({ x: p.x, y: p.y }));
  const points = nextBody.map((p) => ({ x: p.x, y: p.y }));
  const prevHead = prevBody[0];
  const prevTail = prevBody[prevBody.length - 1];
  const nextTail = nextBody[nextBody.length - 1];
  points[0] = { x: lerp(prevHead.x, nextBody[0].x, alpha), y: lerp(prevHead.y, nextBody[0].y, alpha) };
  if (prevTail.x !== nextTail.x || prevTail.y !== nextTail.y) {
    // The tail left prevTail this tick: draw the part of that cell not yet vacated.
    points.push({ x: lerp(prevTail.x, nextTail.x, alpha), y: lerp(prevTail.y, nextTail.y, alpha) });
  }
  return points;
}

export class ArenaRenderer {
  constructor(canvas) {
    this.canvas = canvas;
    this.ctx = canvas.getContext("2d");
    this.cell = 16;
  }

  /** Fit the canvas to the arena and the space available. */
  resize(width, height, maxCssWidth, maxCssHeight) {
    const cell = Math.max(4, Math.floor(Math.min(maxCssWidth / width, maxCssHeight / height)));
    const ratio = globalThis.devicePixelRatio || 1;
    const cssW = cell * width;
    const cssH = cell * height;
    if (this.cell !== cell || this.canvas.width !== Math.round(cssW * ratio)) {
      this.cell = cell;
      this.canvas.style.width = `${cssW}px`;
      this.canvas.style.height = `${cssH}px`;
      this.canvas.width = Math.round(cssW * ratio);
      this.canvas.height = Math.round(cssH * ratio);
    }
    this.ctx.setTransform(ratio, 0, 0, ratio, 0, 0);
  }

  /**
   * @param view {{width, height, zones, food, snakes: [{body, prevBody, isAlive, teamId, name, isMine}]}}
   * @param alpha fraction of the way from each prevBody to body
   */
  draw(view, alpha) {
    const { ctx, cell } = this;
    ctx.fillStyle = "#10141c";
    ctx.fillRect(0, 0, view.width * cell, view.height * cell);
    this.drawGrid(view);
    if (view.zones) this.drawZones(view);
    this.drawFood(view.food);
    // Dead snakes first, so live ones are drawn over them.
    const order = view.snakes.map((s, id) => ({ s, id })).sort((a, b) => Number(a.s.isAlive) - Number(b.s.isAlive));
    for (const { s, id } of order) this.drawSnake(s, id, alpha);
    for (const { s, id } of order) if (s.isAlive) this.drawName(s, id, alpha);
  }

  drawGrid(view) {
    const { ctx, cell } = this;
    ctx.strokeStyle = "rgba(255, 255, 255, 0.04)";
    ctx.lineWidth = 1;
    ctx.beginPath();
    for (let x = 1; x < view.width; x++) {
      ctx.moveTo(x * cell + 0.5, 0);
      ctx.lineTo(x * cell + 0.5, view.height * cell);
    }
    for (let y = 1; y < view.height; y++) {
      ctx.moveTo(0, y * cell + 0.5);
      ctx.lineTo(view.width * cell, y * cell + 0.5);
    }
    ctx.stroke();
  }

  drawZones(view) {
    const { ctx, cell } = this;
    const { depth, goalWidth } = view.zones;
    const mid = Math.trunc(view.height / 2);
    const half = Math.trunc(goalWidth / 2);
    const zoneX = [0, view.width - depth];
    const wallX = [depth - 1, view.width - depth];
    for (const team of [0, 1]) {
      ctx.fillStyle = TEAM_ZONE_TINT[team];
      ctx.fillRect(zoneX[team] * cell, 0, depth * cell, view.height * cell);
      ctx.fillStyle = "#5b6475";
      ctx.fillRect(wallX[team] * cell, 0, cell, (mid - half) * cell);
      ctx.fillRect(wallX[team] * cell, (mid + half + 1) * cell, cell, (view.height - mid - half - 1) * cell);
      // The goal opening: team 0 attacks the right one, so tint each by its owner.
      ctx.fillStyle = GOAL_TINT[team];
      ctx.fillRect(wallX[team] * cell, (mid - half) * cell, cell, goalWidth * cell);
    }
  }

  drawFood(food) {
    const { ctx, cell } = this;
    ctx.fillStyle = "#ff5252";
    for (const p of food) {
      ctx.beginPath();
      ctx.arc((p.x + 0.5) * cell, (p.y + 0.5) * cell, cell * 0.3, 0, Math.PI * 2);
      ctx.fill();
    }
  }

  drawSnake(snake, id, alpha) {
    const { ctx, cell } = this;
    const points = interpolatedBody(snake.prevBody, snake.body, snake.isAlive ? alpha : 1);
    const colour = snake.isAlive ? snakeColour(id, snake.teamId) : "#3a3f4b";
    ctx.lineCap = "round";
    ctx.lineJoin = "round";
    if (snake.isMine && snake.isAlive) {
      ctx.strokeStyle = "#ffffff";
      ctx.lineWidth = cell * 0.95;
      this.tracePath(points);
    }
    ctx.strokeStyle = colour;
    ctx.lineWidth = cell * 0.75;
    this.tracePath(points);
    const head = points[0];
    ctx.fillStyle = snake.isAlive ? "#ffffff" : "#777c88";
    ctx.beginPath();
    ctx.arc((head.x + 0.5) * cell, (head.y + 0.5) * cell, cell * 0.18, 0, Math.PI * 2);
    ctx.fill();
  }

  tracePath(points) {
    const { ctx, cell } = this;
    ctx.beginPath();
    ctx.moveTo((points[0].x + 0.5) * cell, (points[0].y + 0.5) * cell);
    if (points.length === 1) ctx.lineTo((points[0].x + 0.5) * cell + 0.01, (points[0].y + 0.5) * cell);
    for (let i = 1; i < points.length; i++) ctx.lineTo((points[i].x + 0.5) * cell, (points[i].y + 0.5) * cell);
    ctx.stroke();
  }

  drawName(snake, id, alpha) {
    if (!snake.name) return;
    const { ctx, cell } = this;
    const head = interpolatedBody(snake.prevBody, snake.body, alpha)[0];
    ctx.font = `${Math.max(10, Math.round(cell * 0.8))}px system-ui, sans-serif`;
    ctx.textAlign = "center";
    ctx.textBaseline = "bottom";
    ctx.fillStyle = "rgba(0, 0, 0, 0.6)";
    const x = (head.x + 0.5) * cell;
    const y = head.y * cell - 2;
    ctx.fillText(snake.name, x + 1, y + 1);
    ctx.fillStyle = snakeColour(id, snake.teamId);
    ctx.fillText(snake.name, x, y);
  }
}
