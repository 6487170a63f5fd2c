// The chat page: agents, threads, a WebSocket per agent, streamed markdown.
// Chunks on the socket are the AI SDK UI message stream chunks, wrapped in
// frames {type: "chunk", runId, threadId, seq, chunk}. Markdown is rendered by
// marked and sanitised by DOMPurify before it touches the DOM.
import { marked } from "../vendor/marked.esm.js";
import DOMPurify from "../vendor/purify.es.mjs";
import { STOPPED, stamp, storedStatus } from "./meta.js";
import { renderTrace } from "./trace.js";
import { chartIdOf, markCharts, placeCharts } from "./charts.js";
import * as approvals from "./approvals.js";
import * as workflows from "./workflows.js";

const $ = (id) => document.getElementById(id);
const app = $("app");
const state = {
  resourceId: app.dataset.resourceId,
  agents: [],
  agent: null,
  threadId: null,
  socket: null,
  retry: 0,
  runs: new Map(), // runId -> {view, lastSeq, texts: Map(textId -> string)}
  activeRunId: null,
  pendingBubble: null,
  queued: [], // frames typed before the socket opened
  lastFrameAt: 0, // when the socket last sent anything (heartbeats included)
  heartbeatS: 0, // the server's heartbeat interval, from its first heartbeat frame
  traceId: null, // the last run's trace, shown in the panel
  toolOutputs: new Map(), // toolCallId -> output, for the trace view
  threadStored: false, // whether the open thread exists on the server yet
};

marked.setOptions({ gfm: true, breaks: true });

// `charts`: chart ids the answer's tools returned; those without a marker go at its end
// (left out while streaming, when the marker may still come).
function renderMarkdown(el, text, { charts = [], streaming = false } = {}) {
  el.innerHTML = DOMPurify.sanitize(marked.parse(markCharts(text, { streaming })));
  placeCharts(el, streaming ? [] : charts);
}

function csrfToken() {
  const m = document.cookie.match(/(?:^|; )csrftoken=([^;]+)/);
  return m ? decodeURIComponent(m[1]) : "";
}

async function api(path, options = {}) {
  const response = await fetch(path, {
    credentials: "same-origin",
    ...options,
    headers: { "Content-Type": "application/json", "X-CSRFToken": csrfToken(), ...(options.headers || {}) },
  });
  if (response.status === 401 || response.status === 403) {
    window.location.assign(`/login/?next=${encodeURIComponent(location.pathname + location.search)}`);
    throw new Error("signed out");
  }
  const body = response.headers.get("content-type")?.includes("json") ? await response.json() : null;
  if (!response.ok) throw new Error(body?.message || `${path} answered ${response.status}`);
  return body;
}

const listOf = (body) => (Array.isArray(body) ? body : body?.results || body?.models || body?.data || []);

function notice(text, kind = "info") {
  const el = $("notice");
  el.textContent = text;
  el.className = kind === "error" ? "notice error-box" : "notice";
  el.hidden = !text;
}

// -- messages --------------------------------------------------------------
function bubble(role, when = new Date()) {
  const li = document.createElement("li");
  li.className = `message ${role}`;
  const who = document.createElement("span");
  who.className = "who";
  who.textContent = role === "user" ? "You" : state.agent?.name || "Agent";
  const tools = document.createElement("ul");
  tools.className = "tools";
  const body = document.createElement("div");
  body.className = "body";
  const status = document.createElement("p");
  status.className = "status";
  li.append(who, tools, body, status);
  stamp(li, when);
  $("messages").append(li);
  li.scrollIntoView({ block: "end" });
  li.view = { li, tools, body, status, texts: new Map(), toolItems: new Map(), charts: [] };
  return li.view;
}

function addUserMessage(text) {
  const view = bubble("user");
  view.body.textContent = text;
}

function addStoredMessage(message) {
  const role = message.role === "user" ? "user" : "assistant";
  if (role !== "user" && message.role !== "assistant") return;
  const parts = message.parts || message.content?.parts || [];
  const text = parts.length
    ? parts.filter((p) => p.type === "text").map((p) => p.text).join("")
    : typeof message.content === "string" ? message.content : "";
  const calls = role === "assistant" ? parts.filter((p) => p.type === "tool-call") : [];
  if (!text && !calls.length) return;
  const view = bubble(role, message.createdAt);
  if (message.id) view.li.dataset.messageId = message.id;
  if (message.runId && role === "assistant") view.li.dataset.runId = message.runId;
  for (const part of parts) if (part.type === "tool-result") state.toolOutputs.set(part.toolCallId, part.output);
  // The tools the answer used, labelled as they were while it streamed.
  approvals.storedTools(view, parts);
  const charts = parts.filter((p) => p.type === "tool-result").map((p) => chartIdOf(p.output)).filter(Boolean);
  if (role === "user") view.body.textContent = text;
  else {
    // A continuation of this run (a decision taken after the reload) is added after it.
    if (text) view.texts.set("stored", text);
    renderMarkdown(view.body, text, { charts });
  }
  storedStatus(view, message);
}

function toolLabel(chunk) {
  const declared = state.agent?.tools?.find?.((t) => (t.id || t.name) === chunk.toolName)?.label;
  return chunk.title || declared || `Using ${chunk.toolName}…`;
}

function applyChunk(run, chunk) {
  const view = run.view;
  if (chunk.type === "tool-output-available") {
    state.toolOutputs.set(chunk.toolCallId, chunk.output);
    const chartId = chartIdOf(chunk.output);
    if (chartId) view.charts.push(chartId);
  }
  if (approvals.applyToolChunk(run, chunk)) return;
  switch (chunk.type) {
    case "text-start":
      view.texts.set(chunk.id, "");
      view.body.classList.add("streaming");
      break;
    case "text-delta": {
      const text = (view.texts.get(chunk.id) || "") + chunk.delta;
      view.texts.set(chunk.id, text);
      renderMarkdown(view.body, [...view.texts.values()].join("\n\n"), { streaming: true });
      view.li.scrollIntoView({ block: "end" });
      break;
    }
    case "start":
      if (chunk.messageMetadata?.traceId) showTrace(chunk.messageMetadata.traceId);
      break;
    case "data-run":
      if (chunk.data?.traceId) showTrace(chunk.data.traceId);
      break;
    case "error":
      view.status.textContent = chunk.errorText;
      view.status.className = "status error-box";
      view.status.setAttribute("role", "alert");
      break;
    case "abort":
      view.status.textContent = STOPPED;
      break;
    default:
      break;
  }
}

function hideTrace() {
  state.traceId = null;
  $("trace-view").replaceChildren();
  $("trace-empty").hidden = false;
}

// The run's trace in the panel; drawn when the run has ended (its spans are stored then).
function showTrace(traceId, { draw = false } = {}) {
  state.traceId = traceId;
  $("trace-empty").hidden = true;
  if (draw) drawTrace();
}

async function drawTrace() {
  if (!state.traceId) return;
  try {
    await renderTrace($("trace-view"), state.traceId, { fetchJson: api, outputs: state.toolOutputs });
  } catch (error) {
    $("trace-view").textContent = `The trace is not available: ${error.message}`;
  }
}

// -- the socket ------------------------------------------------------------
function connect() {
  if (!state.agent) return;
  const scheme = location.protocol === "https:" ? "wss" : "ws";
  const socket = new WebSocket(`${scheme}://${location.host}/ws/agents/${encodeURIComponent(state.agent.id)}/`);
  state.socket = socket;
  socket.addEventListener("open", () => {
    state.retry = 0;
    state.lastFrameAt = Date.now();
    notice("");
    if (state.threadId) socket.send(JSON.stringify({ type: "subscribe", threadId: state.threadId }));
    for (const frame of state.queued.splice(0)) socket.send(JSON.stringify(frame));
    if (state.pendingBubble) state.pendingBubble.status.textContent = "";
    for (const [runId, run] of state.runs) {
      socket.send(JSON.stringify({ type: "replay", threadId: run.threadId, runId, afterSeq: run.lastSeq }));
    }
    workflows.onOpen();
  });
  socket.addEventListener("message", (event) => {
    state.lastFrameAt = Date.now();
    onFrame(JSON.parse(event.data));
  });
  socket.addEventListener("close", (event) => {
    if (state.socket !== socket) return;
    if (event.code === 4401) {
      notice("You are signed out. Reload the page to sign in again.", "error");
    } else if (event.code === 4404) {
      notice(`The agent "${state.agent.id}" no longer exists. Pick another one.`, "error");
    } else {
      const delay = Math.min(5000, 250 * 2 ** state.retry++);
      notice("Connection lost; reconnecting…");
      setTimeout(() => state.socket === socket && connect(), delay);
    }
  });
}

// The server sends a heartbeat every few seconds: a socket silent for much longer than that
// is dead even if the browser has not noticed, so it is closed and opened again.
setInterval(() => {
  const socket = state.socket;
  if (!state.heartbeatS || socket?.readyState !== WebSocket.OPEN) return;
  if (Date.now() - state.lastFrameAt > state.heartbeatS * 2500) socket.close(4000, "No heartbeat");
}, 5000);

function onFrame(frame) {
  if (frame.type === "heartbeat") {
    state.heartbeatS = frame.intervalS;
    return;
  }
  if (workflows.onFrame(frame)) return;
  if (approvals.onFrame(frame, viewOfRun)) return;
  if (frame.type === "error") {
    notice(frame.message, "error");
    return;
  }
  if (frame.type === "run-started") {
    const view = state.pendingBubble || bubble("assistant");
    state.pendingBubble = null;
    view.li.dataset.runId = frame.runId;
    state.runs.set(frame.runId, { view, lastSeq: 0, threadId: frame.threadId, runId: frame.runId });
    state.activeRunId = frame.runId;
    setBusy(true);
    return;
  }
  if (frame.type === "run-resumed") {
    // A suspended run continues after a decision (here, in another tab, in the admin, through
    // the API): into the bubble it stopped in.
    if (frame.threadId !== state.threadId) return;
    const view = viewOfRun(frame.runId) || bubble("assistant");
    view.li.dataset.runId = frame.runId;
    const known = state.runs.get(frame.runId);
    // A bubble from the stored thread has no frames yet: take the continuation from its first.
    state.runs.set(frame.runId, known || { view, lastSeq: frame.afterSeq, threadId: frame.threadId, runId: frame.runId });
    state.activeRunId = frame.runId;
    setBusy(true);
    return;
  }
  if (frame.threadId !== state.threadId || !frame.runId) return;
  let run = state.runs.get(frame.runId);
  if (!run) {
    // A run started in another tab on this thread, or before this page was loaded (a reload):
    // it streams here, and can be stopped here.
    const stored = viewOfRun(frame.runId);
    run = { view: stored || bubble("assistant"), lastSeq: 0, threadId: frame.threadId, runId: frame.runId };
    run.view.li.dataset.runId = frame.runId;
    state.runs.set(frame.runId, run);
    if (!stored) showQuestion(run);
    if (frame.type !== "run-end") {
      state.activeRunId = frame.runId;
      setBusy(true);
    }
  }
  if (frame.seq <= run.lastSeq) return; // already seen (replay overlap)
  if (frame.seq > run.lastSeq + 1) {
    holdUntilReplayed(run, frame);
    return;
  }
  applyFrame(run, frame);
  // Frames held back while the missing ones were replayed, now in order.
  while (run.held?.has(run.lastSeq + 1)) {
    const next = run.held.get(run.lastSeq + 1);
    run.held.delete(next.seq);
    applyFrame(run, next);
  }
}

// A frame after a gap (the run began before this page subscribed): ask the server once for
// the frames in between, and hold this one until they come. If the replay buffer no longer
// has them, the held frames are shown anyway after a moment.
function holdUntilReplayed(run, frame) {
  run.held ??= new Map();
  run.held.set(frame.seq, frame);
  if (run.replayAsked) return;
  run.replayAsked = true;
  state.socket?.send(
    JSON.stringify({ type: "replay", threadId: frame.threadId, runId: frame.runId, afterSeq: run.lastSeq }),
  );
  setTimeout(() => {
    const held = [...(run.held?.values() || [])].sort((x, y) => x.seq - y.seq);
    run.held?.clear();
    for (const next of held) if (next.seq > run.lastSeq) applyFrame(run, next);
  }, 2000);
}

function applyFrame(run, frame) {
  const runId = frame.runId;
  run.lastSeq = frame.seq;
  if (frame.seq === 1) run.view.texts.delete("stored"); // the whole run again, from its first frame
  if (frame.type === "chunk") applyChunk(run, frame.chunk);
  if (frame.type === "run-end") {
    run.view.body.classList.remove("streaming");
    renderMarkdown(run.view.body, [...run.view.texts.values()].join("\n\n"), { charts: run.view.charts });
    // A suspended run is kept: its continuation goes on in the same bubble, numbered on.
    if (frame.status !== "suspended") state.runs.delete(runId);
    if (state.activeRunId === runId) {
      state.activeRunId = null;
      setBusy(false);
      $("prompt").focus();
    }
    state.threadStored = true;
    loadThreads();
    loadMemory(); // the run may have updated the working memory (and created the thread)
    drawTrace();
  }
}

// A run another tab started: the question it answers (stored before its first frame) is
// shown above it, unless this page already shows that message.
async function showQuestion(run) {
  try {
    // The newest messages only (pages run oldest first): the question is the last or the one before.
    const path = `/api/memory/threads/${encodeURIComponent(run.threadId)}/messages`;
    const { count } = await api(`${path}?limit=1`);
    const newest = await api(`${path}?limit=2&offset=${Math.max(0, count - 2)}`);
    const question = listOf(newest).findLast((m) => m.role === "user");
    if (!question || state.threadId !== run.threadId) return;
    if ($("messages").querySelector(`li[data-message-id="${CSS.escape(String(question.id))}"]`)) return;
    const view = bubble("user", question.createdAt);
    view.li.dataset.messageId = question.id;
    view.body.textContent = (question.parts || []).filter((p) => p.type === "text").map((p) => p.text).join("");
    run.view.li.before(view.li);
  } catch {
    // The answer streams without its question; a reload shows both.
  }
}

// The bubble a run is shown in: live, or from the stored thread.
function viewOfRun(runId) {
  const live = state.runs.get(runId)?.view;
  if (live) return live;
  const li = $("messages").querySelector(`li.message.assistant[data-run-id="${CSS.escape(runId)}"]`);
  return li ? viewOfElement(li) : null;
}

function viewOfElement(li) {
  li.view ??= {
    li,
    tools: li.querySelector(".tools"),
    body: li.querySelector(".body"),
    status: li.querySelector(".status"),
    texts: new Map(),
    toolItems: new Map([...li.querySelectorAll(".tool")].map((item) => [item.dataset.toolCallId, item])),
    charts: [],
  };
  return li.view;
}

// A frame for the socket: sent now, or false when the socket is not open.
function sendFrame(frame) {
  if (state.socket?.readyState !== WebSocket.OPEN) return false;
  state.socket.send(JSON.stringify(frame));
  return true;
}

// The calls the thread's suspended runs wait on, shown again as cards (after a reload).
async function restorePending(threadId) {
  const query = new URLSearchParams({ threadId });
  const path = `/api/agents/${encodeURIComponent(state.agent.id)}/suspended-runs?${query}`;
  const pending = listOf(await api(path)).flatMap((run) => run.pendingToolCalls);
  if (state.threadId !== threadId) return;
  approvals.restorePending(
    pending.map((call) => ({ ...call, threadId })),
    (call) => {
      const view = viewOfRun(call.runId) || bubble("assistant");
      view.li.dataset.runId = call.runId;
      return view;
    },
  );
}

function setBusy(busy) {
  $("send").disabled = busy;
  $("stop").hidden = !busy;
}

function send(text) {
  if (!state.threadId) startThread();
  approvals.supersede($("messages"));
  addUserMessage(text);
  state.pendingBubble = bubble("assistant");
  state.pendingBubble.status.textContent = "Thinking…";
  rememberPlace(state.threadId); // the thread exists once this message is stored
  const frame = { type: "message", threadId: state.threadId, text };
  const model = $("model-select").value;
  if (model) frame.model = model;
  if (state.socket?.readyState !== WebSocket.OPEN) {
    // Sent as soon as the socket (re)connects.
    state.queued.push(frame);
    state.pendingBubble.status.textContent = "Connecting…";
    return;
  }
  state.socket.send(JSON.stringify(frame));
  state.pendingBubble.status.textContent = "";
}

function stop() {
  if (state.activeRunId) {
    state.socket?.send(JSON.stringify({ type: "abort", threadId: state.threadId, runId: state.activeRunId }));
  }
}

// -- threads, models, memory -------------------------------------------------
// The agent and the open thread live in the address (`?agent=…&thread=…`), so a reload
// or a bookmark comes back to the same conversation.
function rememberPlace(threadId) {
  const params = new URLSearchParams(location.search);
  if (state.agent) params.set("agent", state.agent.id);
  if (threadId) params.set("thread", threadId);
  else params.delete("thread");
  history.replaceState(null, "", `${location.pathname}?${params}`);
}

function startThread() {
  state.threadId = crypto.randomUUID();
  state.threadStored = false; // nothing to fetch for it until its first run
  state.toolOutputs.clear();
  rememberPlace(null); // a new thread is stored with its first message
  $("messages").replaceChildren();
  hideTrace();
  state.socket?.readyState === WebSocket.OPEN &&
    state.socket.send(JSON.stringify({ type: "subscribe", threadId: state.threadId }));
  markCurrentThread();
  loadMemory();
}

async function openThread(threadId) {
  state.threadId = threadId;
  state.threadStored = true;
  state.toolOutputs.clear();
  rememberPlace(threadId);
  $("messages").replaceChildren();
  markCurrentThread();
  state.socket?.readyState === WebSocket.OPEN &&
    state.socket.send(JSON.stringify({ type: "subscribe", threadId }));
  hideTrace();
  try {
    const messages = listOf(await api(`/api/memory/threads/${encodeURIComponent(threadId)}/messages`));
    messages.forEach(addStoredMessage);
    showLastTrace(messages.findLast((m) => m.runId)?.runId);
    await restorePending(threadId);
  } catch (error) {
    notice(`Could not load this thread: ${error.message}`, "error");
    startThread(); // loads the (empty) memory panel itself
    closeDrawers();
    return;
  }
  loadMemory();
  closeDrawers();
}

async function showLastTrace(runId) {
  if (!runId) return;
  try {
    const run = await api(`/api/runs/${encodeURIComponent(runId)}`);
    // A run in progress has no stored trace yet: it is drawn when the run's frames end.
    if (state.threadId === run.threadId && run.traceId) showTrace(run.traceId, { draw: run.status !== "running" });
  } catch {
    // A run still in progress is recorded when it ends; its trace link comes with its frames.
  }
}

function markCurrentThread() {
  for (const button of $("thread-list").querySelectorAll("button")) {
    button.setAttribute("aria-current", button.dataset.threadId === state.threadId ? "true" : "false");
  }
}

async function loadThreads() {
  if (!state.agent) return;
  const query = new URLSearchParams({ resourceId: state.resourceId, agentId: state.agent.id });
  let threads = [];
  try {
    threads = listOf(await api(`/api/memory/threads?${query}`));
  } catch (error) {
    notice(`Could not load your threads: ${error.message}`, "error");
  }
  const list = $("thread-list");
  list.replaceChildren(
    ...threads.map((thread) => {
      const li = document.createElement("li");
      const button = document.createElement("button");
      button.type = "button";
      button.dataset.threadId = thread.id;
      button.textContent = thread.title || "Untitled thread";
      button.addEventListener("click", () => openThread(thread.id));
      li.append(button);
      return li;
    }),
  );
  if (!threads.length) list.innerHTML = '<li class="muted">No threads yet.</li>';
  markCurrentThread();
}

const TIER_LABELS = { thinking: "Thinking", balanced: "Balanced", fast: "Fast" };
const modelKey = (agentId) => `chat.model.${agentId}`;

function rememberModel(agentId, model) {
  try {
    if (model) localStorage.setItem(modelKey(agentId), model);
    else localStorage.removeItem(modelKey(agentId));
  } catch {
    /* storage may be unavailable (private mode): the choice lasts for this page only */
  }
}

function rememberedModel(agentId) {
  try {
    return localStorage.getItem(modelKey(agentId)) || "";
  } catch {
    return "";
  }
}

// The picker groups models by tier (thinking, balanced, fast, then the rest) and
// keeps each agent's choice in localStorage.
async function loadModels() {
  const picker = $("model-picker");
  picker.hidden = !state.agent?.allowModelOverride;
  if (picker.hidden) return;
  try {
    const models = listOf(await api("/api/models"));
    const select = $("model-select");
    select.replaceChildren(select.options[0]);
    const groups = new Map(
      [...Object.keys(TIER_LABELS), "other"].map((tier) => [tier, document.createElement("optgroup")]),
    );
    for (const [tier, group] of groups) group.label = TIER_LABELS[tier] || "Other models";
    for (const model of models) {
      const id = typeof model === "string" ? model : model.id;
      const tier = (typeof model === "object" && model.tier) || "other";
      (groups.get(tier) || groups.get("other")).append(new Option(model.name || id, id));
    }
    for (const group of groups.values()) if (group.children.length) select.append(group);
    const agentId = state.agent.id;
    const remembered = rememberedModel(agentId);
    select.value = [...select.options].some((o) => o.value === remembered) ? remembered : "";
    select.onchange = () => rememberModel(agentId, select.value);
  } catch (error) {
    notice(`Could not list models: ${error.message}`, "error");
  }
}

async function loadMemory() {
  const form = $("memory-form");
  form.hidden = !state.threadId;
  $("memory-empty").hidden = !!state.threadId;
  if (!state.threadId) return;
  $("memory-status").textContent = "";
  form.querySelector("button[type=submit]").disabled = !state.threadStored; // saved with the thread
  // Before the first update the agent works from its template: show that, not an empty box.
  const template = state.agent?.workingMemoryTemplate ?? "";
  if (!state.threadStored) {
    $("memory-text").value = template; // a thread not stored yet has nothing to fetch
    $("memory-status").textContent = template ? "The template; the agent fills it in as you talk." : "";
    return;
  }
  try {
    const body = await api(`/api/memory/threads/${encodeURIComponent(state.threadId)}/working-memory`);
    const value = body?.content ?? body?.workingMemory ?? body?.data ?? null;
    if (value == null) {
      $("memory-text").value = template;
      $("memory-status").textContent = template ? "The template; the agent fills it in as you talk." : "";
    } else {
      $("memory-text").value = typeof value === "string" ? value : JSON.stringify(value, null, 2);
    }
  } catch {
    $("memory-text").value = "";
  }
}

async function saveMemory(event) {
  event.preventDefault();
  const url = `/api/memory/threads/${encodeURIComponent(state.threadId)}/working-memory`;
  try {
    await api(url, { method: "POST", body: JSON.stringify({ content: $("memory-text").value }) });
    $("memory-status").textContent = "Saved.";
  } catch (error) {
    $("memory-status").textContent = `Not saved: ${error.message}`;
  }
}

async function selectAgent(agentId) {
  state.agent = state.agents.find((a) => a.id === agentId) || null;
  state.runs.clear();
  state.socket?.close();
  state.socket = null;
  startThread();
  await Promise.all([loadThreads(), loadModels()]);
  connect();
}

function closeDrawers() {
  for (const [toggle, panel] of [["sidebar-toggle", "sidebar"], ["panel-toggle", "panel"]]) {
    $(toggle).setAttribute("aria-expanded", "false");
    $(panel).classList.remove("open");
  }
}

function wireDrawer(toggleId, panelId) {
  $(toggleId).addEventListener("click", () => {
    const open = !$(panelId).classList.contains("open");
    closeDrawers();
    $(panelId).classList.toggle("open", open);
    $(toggleId).setAttribute("aria-expanded", String(open));
  });
}

async function init() {
  approvals.init({ send: sendFrame, label: toolLabel, autoResume: () => !!state.agent?.autoResumeSuspendedTools });
  wireDrawer("sidebar-toggle", "sidebar");
  wireDrawer("panel-toggle", "panel");
  $("composer").addEventListener("submit", (event) => {
    event.preventDefault();
    const text = $("prompt").value.trim();
    if (!text || $("send").disabled) return;
    $("prompt").value = "";
    send(text);
  });
  $("prompt").addEventListener("keydown", (event) => {
    if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      $("composer").requestSubmit();
    }
  });
  document.addEventListener("keydown", (event) => {
    if (event.key === "Escape") {
      stop();
      closeDrawers();
    }
  });
  $("stop").addEventListener("click", stop);
  // Disabled in the page until here: an Enter pressed before this script ran was a new line.
  $("prompt").disabled = false;
  $("send").disabled = false;
  workflows.init({
    // Sent as soon as the socket (re)connects, like a message typed while it was closed.
    send: (frame) => sendFrame(frame) || (state.queued.push(frame), true),
    threadId: () => state.threadId,
    ensureThread: () => {
      if (!state.threadId) startThread();
      return state.threadId;
    },
  });
  $("research").addEventListener("click", () => {
    const topic = $("prompt").value.trim();
    if (!topic) {
      notice("Type a topic in the message box, then press Research.");
      $("prompt").focus();
      return;
    }
    $("prompt").value = "";
    workflows.startResearch(topic);
  });
  $("new-thread").addEventListener("click", () => {
    startThread();
    closeDrawers();
    $("prompt").focus();
  });
  $("memory-form").addEventListener("submit", saveMemory);
  $("agent-select").addEventListener("change", (event) => selectAgent(event.target.value));
  state.agents = JSON.parse($("agents-data").textContent);
  if (!state.agents.length) {
    notice("No agents yet. Run `make run` to seed the demo agent, or create one in the admin.", "error");
    return;
  }
  const select = $("agent-select");
  select.replaceChildren(...state.agents.map((a) => new Option(a.name || a.id, a.id)));
  const params = new URLSearchParams(location.search);
  const wantedThread = params.get("thread");
  const first = state.agents.find((a) => a.id === params.get("agent")) || state.agents[0];
  select.value = first.id;
  await selectAgent(first.id);
  if (wantedThread) await openThread(wantedThread);
  $("prompt").focus();
}

init();
