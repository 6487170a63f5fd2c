// The trace of the user's own run, inside the chat: its spans in order with their timings,
// and each tool call's input and output. Spans come from the owner-scoped trace route
// (GET /api/traces/<id>); tool outputs come from the answer itself (the stream's
// `tool-output-available` chunks, or the stored message's tool results), keyed by call id.

const ms = (value) => (value == null ? "" : value < 1 ? `${value.toFixed(2)} ms` : `${Math.round(value)} ms`);

function pre(label, value) {
  const details = document.createElement("details");
  const summary = document.createElement("summary");
  summary.textContent = label;
  const body = document.createElement("pre");
  body.textContent = typeof value === "string" ? value : JSON.stringify(value, null, 2);
  details.append(summary, body);
  return details;
}

function spanTitle(span) {
  const attrs = span.attributes || {};
  if (span.kind === "tool") return `Tool ${attrs.tool_name || span.name}`;
  if (span.kind === "model" || span.name.startsWith("model")) return `Model ${attrs.model || ""}`.trim();
  return span.name;
}

// Renders the trace `traceId` into `container`; `outputs` maps tool call ids to their outputs.
export async function renderTrace(container, traceId, { fetchJson, outputs = new Map() }) {
  container.replaceChildren();
  const trace = await fetchJson(`/api/traces/${encodeURIComponent(traceId)}`);
  const head = document.createElement("p");
  head.className = "trace-head";
  head.textContent = `${trace.status} · ${ms(trace.duration_ms)} · ${trace.spans.length} spans`;
  const list = document.createElement("ol");
  list.className = "trace-spans";
  const depth = new Map();
  for (const span of [...trace.spans].sort((a, b) => a.seq - b.seq)) {
    const level = span.parent_id && depth.has(span.parent_id) ? depth.get(span.parent_id) + 1 : 0;
    depth.set(span.id, level);
    const item = document.createElement("li");
    item.className = `span span-${span.kind} ${span.status === "ok" ? "" : "span-failed"}`.trim();
    item.style.setProperty("--depth", String(level));
    const name = document.createElement("span");
    name.className = "span-name";
    name.textContent = spanTitle(span);
    const time = document.createElement("span");
    time.className = "span-time";
    time.textContent = ms(span.duration_ms);
    item.append(time, name); // the float first, so a long name wraps beside its time, not above it
    const attrs = span.attributes || {};
    if (span.kind === "tool") {
      if (attrs.input !== undefined) item.append(pre("Input", attrs.input));
      const output = outputs.get(attrs.tool_call_id);
      if (output !== undefined) item.append(pre("Output", output));
    }
    if (span.error) item.append(pre("Error", span.error));
    list.append(item);
  }
  container.append(head, list);
  return trace;
}
