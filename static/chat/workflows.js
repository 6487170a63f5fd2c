// Workflow runs in the chat: the "Research" button starts the research workflow on the topic
// typed in the composer, over the chat socket (`workflow-start`). The run's numbered events
// (`workflow-event` frames) fill a card in the conversation: each step with its state, the
// progress the steps write, the outline approval (Approve / Decline with a reason, sent as a
// `workflow-resume` frame that decides the approval), and the report. After a reconnect every
// run still going is watched again from the last event number it showed (`workflow-watch`).
import { marked } from "../vendor/marked.esm.js";
import DOMPurify from "../vendor/purify.es.mjs";
import { decisionControls } from "./approvals.js";

const runs = new Map(); // runId -> {card, steps: Map(path -> li), lastSeq, done}
const hooks = { send: () => false, threadId: () => null, ensureThread: () => null };
const STEP_TEXT = { running: "running", done: "done", failed: "failed", waiting: "waiting for you", retrying: "retrying" };

export function init({ send, threadId, ensureThread }) {
  Object.assign(hooks, { send, threadId, ensureThread });
}

/** Start the research workflow on `topic` (a card appears at once; the socket answers). */
export function startResearch(topic) {
  const threadId = hooks.ensureThread();
  const frame = { type: "workflow-start", workflowId: "research", inputData: { topic }, threadId };
  const card = makeCard(`Research: ${topic}`);
  card.status.textContent = "Starting…";
  pendingCards.push(card);
  if (!hooks.send(frame)) {
    card.status.textContent = "Not connected; try again in a moment.";
    pendingCards.pop();
  }
}

const pendingCards = [];

/** After the socket (re)opens: watch every unfinished run again from its last event. */
export function onOpen() {
  for (const [runId, run] of runs) {
    if (!run.done) hooks.send({ type: "workflow-watch", runId, offset: run.lastSeq });
  }
}

/** Handle a workflow frame; false for every other frame. */
export function onFrame(frame) {
  if (frame.type === "workflow-started") {
    const card = pendingCards.shift() || makeCard(`Workflow ${frame.workflowId}`);
    card.li.dataset.workflowRunId = frame.runId;
    card.status.textContent = "";
    runs.set(frame.runId, { card, steps: new Map(), lastSeq: 0, done: false });
    return true;
  }
  if (frame.type === "workflow-event") {
    const run = runs.get(frame.runId);
    if (!run || frame.seq <= run.lastSeq) return true; // another tab's run, or seen already
    run.lastSeq = frame.seq;
    apply(frame.runId, run, frame.event);
    return true;
  }
  if (frame.type === "workflow-resumed") {
    const run = runs.get(frame.runId);
    if (run) run.card.li.querySelector(`.tool-prompt[data-path="${CSS.escape(frame.path)}"]`)?.remove();
    return true;
  }
  if (frame.type === "error" && pendingCards.length && frame.details && !frame.runId) {
    const card = pendingCards.shift();
    card.status.textContent = frame.message;
    return true;
  }
  if (frame.type === "error" && frame.runId && runs.has(frame.runId)) {
    runs.get(frame.runId).card.status.textContent = frame.message;
    return true;
  }
  return false;
}

function makeCard(title) {
  const li = document.createElement("li");
  li.className = "message assistant workflow-run";
  const who = document.createElement("span");
  who.className = "who";
  who.textContent = title;
  const steps = document.createElement("ul");
  steps.className = "tools workflow-steps";
  steps.setAttribute("aria-label", "Steps");
  const progress = document.createElement("p");
  progress.className = "status workflow-progress";
  progress.setAttribute("role", "status");
  const body = document.createElement("div");
  body.className = "body";
  const status = document.createElement("p");
  status.className = "status";
  li.append(who, steps, progress, body, status);
  document.getElementById("messages").append(li);
  li.scrollIntoView({ block: "end" });
  return { li, steps, progress, body, status };
}

function stepItem(run, path, stepId) {
  let item = run.steps.get(path);
  if (!item) {
    item = document.createElement("li");
    item.className = "tool";
    item.dataset.path = path;
    item.textContent = stepId || path;
    run.card.steps.append(item);
    run.steps.set(path, item);
  }
  return item;
}

function setStep(item, state) {
  item.classList.remove("running", "done", "failed", "waiting", "declined");
  item.classList.add(state === "retrying" ? "failed" : state);
  item.dataset.state = state;
  item.setAttribute("aria-label", `${item.textContent} (${STEP_TEXT[state]})`);
}

function apply(runId, run, event) {
  const data = event.data || {};
  switch (event.type) {
    case "workflow-step-start":
      setStep(stepItem(run, event.path, data.stepId), "running");
      break;
    case "workflow-step-result":
      if (data.status === "success") setStep(stepItem(run, event.path, data.stepId), "done");
      else setStep(stepItem(run, event.path, data.stepId), data.retryAt ? "retrying" : "failed");
      break;
    case "workflow-step-progress":
      run.card.progress.textContent = data?.message || JSON.stringify(data);
      break;
    case "workflow-step-suspended":
      setStep(stepItem(run, event.path, data.stepId), "waiting");
      approvalCard(runId, run, event.path, data);
      break;
    case "workflow-step-resumed":
      run.card.li.querySelector(`.tool-prompt[data-path="${CSS.escape(event.path)}"]`)?.remove();
      setStep(stepItem(run, event.path, data.stepId), "running");
      break;
    case "workflow-finish":
      run.done = true;
      run.card.progress.textContent = "";
      showResult(run, data.output || {});
      break;
    case "workflow-failed":
      run.done = true;
      run.card.status.textContent = `The workflow failed: ${data.error?.message || "unknown error"}`;
      break;
    case "workflow-canceled":
      run.done = true;
      run.card.status.textContent = "The workflow was cancelled.";
      break;
    default:
      break;
  }
}

function approvalCard(runId, run, path, data) {
  const payload = data.payload || {};
  const box = document.createElement("form");
  box.className = "tool-prompt approval workflow-approval";
  box.dataset.path = path;
  box.setAttribute("aria-label", "Approve the outline?");
  const title = document.createElement("p");
  title.className = "tool-prompt-title";
  title.textContent = "Approve the outline?";
  const question = document.createElement("div");
  question.className = "tool-prompt-message";
  question.innerHTML = DOMPurify.sanitize(marked.parse(payload.question || ""));
  const status = document.createElement("p");
  status.className = "tool-prompt-status";
  status.setAttribute("role", "status");
  const { fields, buttons } = decisionControls(box, {
    reasonHint: "Reason (for a decline)",
    onDecide: (approved, reason) => {
      const sent = hooks.send({
        type: "workflow-resume",
        runId,
        step: path,
        resumeData: { approved, reason: approved ? "" : reason },
      });
      status.textContent = sent ? "Sending…" : "Not connected; try again in a moment.";
      if (sent) for (const button of buttons) button.disabled = true;
    },
  });
  box.append(title, question, ...fields, status);
  run.card.li.insertBefore(box, run.card.body);
  box.scrollIntoView({ block: "end" });
}

function showResult(run, output) {
  if (output.approved === false) {
    run.card.body.textContent = `Declined: ${output.reason || "no reason given"}`;
    return;
  }
  const text = output.report ?? JSON.stringify(output, null, 2);
  run.card.body.innerHTML = DOMPurify.sanitize(marked.parse(text));
  run.card.li.classList.add("workflow-done");
}
