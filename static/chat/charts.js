// Inline charts: each `[chart:<id>]` line of an answer becomes a fixed-height frame that
// long-polls /api/embed/chart/<id> and draws the ECharts option there. The frame keeps its
// height through "queued", "rendering" and "rendered" (or "unavailable"), so the answer does
// not jump while charts resolve. ECharts (vendored from npm) is loaded on the first chart.
const MARKER = /^[ \t]*\[chart:([0-9a-fA-F-]{36})\][ \t]*$/gm;
const PARTIAL = /\n?[ \t]*\[chart:[0-9a-fA-F-]{0,36}\]?$/; // a marker still streaming in
const UUID = /^[0-9a-fA-F-]{36}$/;
const LABELS = {
  queued: "Queueing chart…",
  rendering: "Rendering chart…",
  unavailable: "Chart unavailable",
};
const frames = new Map(); // chartId -> {el, canvas, caption, state}
let echartsLoading = null;

// The answer's markdown with each marker line replaced by a slot for its frame.
export function markCharts(text, { streaming = false } = {}) {
  const complete = streaming ? text.replace(PARTIAL, "") : text;
  return complete.replace(MARKER, (_, id) => `\n\n<div class="chart-slot" data-chart-id="${id.toLowerCase()}"></div>\n\n`);
}

// The chart id a tool returned (`render_data` answers {chartId}), or null.
export function chartIdOf(output) {
  let value = output;
  if (typeof value === "string") {
    try {
      value = JSON.parse(value);
    } catch {
      return null;
    }
  }
  const id = value && typeof value === "object" ? value.chartId : null;
  return typeof id === "string" && UUID.test(id) ? id.toLowerCase() : null;
}

// Put each chart's frame at its slot in `body`; charts in `extra` without a marker
// (the model forgot to place them) go at the end of the answer.
export function placeCharts(body, extra = []) {
  const placed = new Set();
  for (const slot of body.querySelectorAll(".chart-slot[data-chart-id]")) {
    const id = slot.dataset.chartId;
    if (!UUID.test(id) || placed.has(id)) {
      slot.remove();
      continue;
    }
    placed.add(id);
    slot.replaceWith(frameFor(id).el);
  }
  const missing = [...new Set(extra)].filter((id) => !placed.has(id));
  if (!missing.length) return;
  const tail = document.createElement("div");
  tail.className = "chart-fallback";
  for (const id of missing) tail.append(frameFor(id).el);
  body.append(tail);
}

function frameFor(id) {
  let frame = frames.get(id);
  if (frame) return frame;
  const el = document.createElement("figure");
  el.className = "chart-frame";
  el.dataset.chartId = id;
  const canvas = document.createElement("div");
  canvas.className = "chart-canvas";
  const caption = document.createElement("figcaption");
  caption.className = "chart-status";
  caption.setAttribute("role", "status");
  el.append(canvas, caption);
  frame = { el, canvas, caption, state: "" };
  frames.set(id, frame);
  show(frame, "queued");
  poll(id, frame);
  return frame;
}

function show(frame, state, title = "") {
  frame.state = state;
  frame.el.dataset.state = state;
  frame.caption.textContent = state === "rendered" ? title : LABELS[state] || LABELS.queued;
}

const pause = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

// Long-poll until the chart is ready or failed: each answer comes when the status moves
// on from the one this frame shows (or at the server's timeout, when it is asked again).
async function poll(id, frame) {
  let after = "queued";
  for (let attempt = 0; attempt < 60; attempt++) {
    let response;
    try {
      response = await fetch(`/api/embed/chart/${encodeURIComponent(id)}?after=${after}`, {
        credentials: "same-origin",
        headers: { Accept: "application/json" },
      });
    } catch {
      await pause(1000 + attempt * 250); // offline for a moment: try again
      continue;
    }
    if (response.status === 404) return show(frame, "unavailable"); // expired, or not the caller's
    if (!response.ok) {
      await pause(1000 + attempt * 250);
      continue;
    }
    const chart = await response.json();
    if (chart.status === "ready") return draw(frame, chart);
    if (chart.status === "failed") return show(frame, "unavailable");
    show(frame, chart.status);
    after = chart.status;
  }
  show(frame, "unavailable");
}

async function draw(frame, chart) {
  try {
    echartsLoading ??= import("../vendor/echarts.esm.min.js");
    const echarts = await echartsLoading;
    const instance = echarts.init(frame.canvas, null, { renderer: "canvas" });
    instance.setOption({ animation: false, ...chart.option, title: fitted(chart.option.title, frame.canvas) });
    new ResizeObserver(() => {
      instance.setOption({ title: fitted(chart.option.title, frame.canvas) });
      instance.resize();
    }).observe(frame.canvas);
    frame.el.setAttribute("aria-label", chart.title || "Chart");
    show(frame, "rendered", chart.title);
  } catch (error) {
    console.error("chart not drawn", error);
    show(frame, "unavailable");
  }
}

// A title wraps within the frame instead of running off a narrow screen's edge.
function fitted(title, canvas) {
  if (!title) return title;
  const width = Math.max(120, canvas.clientWidth - 24);
  const fit = (one) => {
    const style = one.textStyle || {};
    const lineHeight = Math.round((style.fontSize || 18) * 1.3);
    return { ...one, textStyle: { lineHeight, ...style, width, overflow: "break" } };
  };
  return Array.isArray(title) ? title.map(fit) : fit(title);
}
