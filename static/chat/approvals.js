// Tool activity in the chat: each tool chip's real state, approval cards and suspension
// prompts. Chips are `li.tool` with one state class: running, done, declined, failed or
// waiting (for a person). A `tool-approval-request` chunk opens an approval card (the
// tool's label, its arguments, Approve / Decline with a reason); a `data-tool-suspended`
// part opens a prompt (a form from the tool's resume schema, or a plain reply when the
// agent resumes from the next message). Decisions go back over the socket as `approve`,
// `decline` and `resume` frames; the run's continuation streams into the same bubble.
// After a reload, the thread's suspended runs (GET /api/agents/<id>/suspended-runs?threadId=)
// bring the cards back.
import { schemaForm } from "./schema_form.js";

const STATES = ["running", "done", "declined", "failed", "waiting"];
const ENDED = new Set(["done", "declined", "failed"]);
const STATE_TEXT = {
  running: "running",
  done: "done",
  declined: "declined",
  failed: "failed",
  waiting: "waiting for you",
};
const hooks = { send: () => false, label: (chunk) => chunk.toolName, autoResume: () => false };

/** `send(frame)` sends a socket frame (false when it cannot); `label(chunk)` names a tool for a
 * person; `autoResume()` says whether the agent resumes a suspended tool from the next message. */
export function init({ send, label, autoResume }) {
  Object.assign(hooks, { send, label, autoResume });
}

function chip(view, toolCallId) {
  return view.toolItems.get(toolCallId);
}

function addChip(view, { toolCallId, toolName, title }) {
  let item = chip(view, toolCallId);
  if (item) return item;
  item = document.createElement("li");
  item.className = "tool";
  item.dataset.toolCallId = toolCallId;
  item.dataset.toolName = toolName;
  item.textContent = hooks.label({ toolName, title });
  view.tools.append(item);
  view.toolItems.set(toolCallId, item);
  return item;
}

/** Put a chip in one of the five states; `detail` becomes its tooltip. */
export function setChipState(item, state, detail) {
  if (!item) return;
  // "Checking the time…" while it runs or waits; "Checking the time" once it has ended.
  item.dataset.label ??= item.textContent;
  item.textContent = ENDED.has(state) ? item.dataset.label.replace(/(…|\.\.\.)$/, "") : item.dataset.label;
  item.classList.remove(...STATES);
  item.classList.add(state);
  item.dataset.state = state;
  item.setAttribute("aria-label", `${item.textContent} (${STATE_TEXT[state]})`);
  item.title = detail || "";
}

function card(view, toolCallId) {
  return view.li.querySelector(`.tool-prompt[data-tool-call-id="${CSS.escape(toolCallId)}"]`);
}

function closeCard(view, toolCallId) {
  card(view, toolCallId)?.remove();
}

function promptShell(view, { toolCallId, kind, heading }) {
  closeCard(view, toolCallId);
  const box = document.createElement("form");
  box.className = `tool-prompt ${kind}`;
  box.dataset.toolCallId = toolCallId;
  box.setAttribute("aria-label", heading);
  const title = document.createElement("p");
  title.className = "tool-prompt-title";
  title.textContent = heading;
  const status = document.createElement("p");
  status.className = "tool-prompt-status";
  status.setAttribute("role", "status");
  box.append(title);
  view.li.insertBefore(box, view.body);
  return { box, status };
}

function argumentsBlock(input) {
  const pre = document.createElement("pre");
  pre.className = "tool-arguments";
  pre.textContent = input === undefined ? "(no arguments)" : JSON.stringify(input, null, 2);
  return pre;
}

function sendOrSay(frame, status, buttons) {
  if (!hooks.send(frame)) {
    status.textContent = "Not connected; try again in a moment.";
    return;
  }
  for (const button of buttons) button.disabled = true;
  status.textContent = "Sent…";
}

/** An approval card: the tool's label and arguments, Approve, Decline with a reason. */
export function showApproval(view, { runId, threadId, toolCallId, toolName, title, input }) {
  const item = chip(view, toolCallId) || addChip(view, { toolCallId, toolName, title });
  setChipState(item, "waiting", "Waiting for your approval.");
  const label = hooks.label({ toolName, title });
  const { box, status } = promptShell(view, { toolCallId, kind: "approval", heading: `Approve: ${label}` });
  const { fields, buttons } = decisionControls(box, {
    reasonHint: "Reason (optional)",
    onDecide: (approved, reason) => {
      const frame = { type: approved ? "approve" : "decline", threadId, runId, toolCallId };
      if (reason) frame.reason = reason;
      sendOrSay(frame, status, buttons);
    },
  });
  box.append(argumentsBlock(input ?? item.toolInput), ...fields, status);
}

/**
 * A reason field and Approve / Decline buttons for a decision form: Approve submits the form
 * (Enter in the reason too), Decline is a click; `onDecide(approved, reason)` hears either.
 * Returns the elements to append and the buttons (to disable once the decision is sent).
 */
export function decisionControls(box, { reasonHint, onDecide }) {
  const reasonLabel = document.createElement("label");
  reasonLabel.className = "schema-field";
  const reasonText = document.createElement("span");
  reasonText.textContent = reasonHint;
  const reason = document.createElement("input");
  reason.type = "text";
  reason.name = "reason";
  reason.maxLength = 2000;
  reasonLabel.append(reasonText, reason);
  const actions = document.createElement("div");
  actions.className = "tool-prompt-actions";
  const approve = document.createElement("button");
  approve.type = "submit";
  approve.className = "primary";
  approve.textContent = "Approve";
  const decline = document.createElement("button");
  decline.type = "button";
  decline.textContent = "Decline";
  actions.append(approve, decline);
  box.addEventListener("submit", (event) => {
    event.preventDefault();
    onDecide(true, reason.value.trim());
  });
  decline.addEventListener("click", () => onDecide(false, reason.value.trim()));
  return { fields: [reasonLabel, actions], buttons: [approve, decline] };
}

/** A suspension prompt: the tool's message, then a form from its resume schema (or a reply). */
export function showSuspension(view, { runId, threadId, toolCallId, toolName, suspendPayload, resumeSchema }) {
  const item = chip(view, toolCallId) || addChip(view, { toolCallId, toolName });
  setChipState(item, "waiting", "Waiting for your answer.");
  const label = hooks.label({ toolName });
  const { box, status } = promptShell(view, { toolCallId, kind: "suspension", heading: `${label} needs your input` });
  const message = document.createElement("p");
  message.className = "tool-prompt-message";
  const payload = suspendPayload;
  message.textContent =
    typeof payload?.message === "string" ? payload.message : payload == null ? "" : JSON.stringify(payload);
  box.append(message);
  if (hooks.autoResume() || !resumeSchema) {
    const hint = document.createElement("p");
    hint.className = "muted";
    hint.textContent = "Answer in the message box below; the agent continues from your reply.";
    box.append(hint, status);
    return;
  }
  const form = schemaForm(resumeSchema);
  const submit = document.createElement("button");
  submit.type = "submit";
  submit.className = "primary";
  submit.textContent = "Continue";
  const actions = document.createElement("div");
  actions.className = "tool-prompt-actions";
  actions.append(submit);
  box.append(form.element, actions, status);
  box.addEventListener("submit", (event) => {
    event.preventDefault();
    let resumeData;
    try {
      resumeData = form.read();
    } catch (error) {
      status.textContent = error.message;
      return;
    }
    sendOrSay({ type: "resume", threadId, runId, toolCallId, resumeData }, status, [submit]);
  });
}

/** Tool chunks of a live run; returns false for chunks that are not about tools. */
export function applyToolChunk(run, chunk) {
  const view = run.view;
  switch (chunk.type) {
    case "tool-input-start":
      setChipState(addChip(view, chunk), "running");
      return true;
    case "tool-input-available": {
      const item = addChip(view, chunk);
      item.toolInput = chunk.input;
      return true;
    }
    case "tool-output-available":
      setChipState(chip(view, chunk.toolCallId), "done");
      closeCard(view, chunk.toolCallId);
      return true;
    case "tool-output-error":
    case "tool-input-error":
      setChipState(chip(view, chunk.toolCallId), "failed", chunk.errorText);
      closeCard(view, chunk.toolCallId);
      return true;
    case "tool-output-denied":
      setChipState(chip(view, chunk.toolCallId), "declined", "Declined.");
      closeCard(view, chunk.toolCallId);
      return true;
    case "tool-approval-request": {
      const item = chip(view, chunk.toolCallId);
      showApproval(view, {
        runId: run.runId,
        threadId: run.threadId,
        toolCallId: chunk.toolCallId,
        toolName: item?.dataset.toolName || "tool",
        input: item?.toolInput,
      });
      return true;
    }
    case "data-tool-suspended": {
      const data = chunk.data || {};
      showSuspension(view, { runId: run.runId, threadId: run.threadId, ...data });
      return true;
    }
    default:
      return false;
  }
}

/** The chips of a stored message, in their final states (a call without a result is waiting). */
export function storedTools(view, parts) {
  const results = new Map(parts.filter((p) => p.type === "tool-result").map((p) => [p.toolCallId, p]));
  for (const call of parts.filter((p) => p.type === "tool-call")) {
    const item = addChip(view, call);
    item.toolInput = call.input;
    const result = results.get(call.toolCallId);
    if (!result) setChipState(item, "waiting");
    else if (result.denied) setChipState(item, "declined", "Declined.");
    else setChipState(item, result.isError ? "failed" : "done");
  }
}

/** Socket frames about decisions (`decision-recorded`, and errors naming a tool call); true
 * when the frame was one and is handled. `findView(runId)` is the bubble of a run, if shown. */
export function onFrame(frame, findView) {
  if (frame.type !== "decision-recorded" && !(frame.type === "error" && frame.toolCallId)) return false;
  const view = frame.runId ? findView(frame.runId) : null;
  const status = view && card(view, frame.toolCallId)?.querySelector(".tool-prompt-status");
  if (!status) return frame.type === "decision-recorded";
  if (frame.type === "decision-recorded") {
    status.textContent = "Recorded; the run continues once every call of this step is decided.";
  } else {
    status.textContent = frame.message;
    fieldErrors(card(view, frame.toolCallId), frame.details);
    // A decision that was refused for good (already decided, gone) cannot be sent again.
    const retry = !["already_decided", "conflict", "not_found"].includes(frame.code);
    for (const button of card(view, frame.toolCallId).querySelectorAll("button")) button.disabled = !retry;
  }
  return true;
}

/** Resume data the tool's schema refused: each field's messages beside it (`resumeData.<field>`). */
function fieldErrors(box, details) {
  for (const old of box.querySelectorAll(".field-error")) old.remove();
  for (const input of box.querySelectorAll("[aria-invalid]")) input.removeAttribute("aria-invalid");
  for (const [key, messages] of Object.entries(details || {})) {
    if (!key.startsWith("resumeData")) continue;
    const name = key.split(".")[1];
    const input = name ? box.querySelector(`[name="${CSS.escape(name)}"]`) : null;
    const error = document.createElement("small");
    error.className = "field-error";
    error.setAttribute("role", "alert");
    error.textContent = `${name || "reply"}: ${[].concat(messages).join(" ")}`;
    if (input) {
      input.setAttribute("aria-invalid", "true");
      input.closest(".schema-field").append(error);
    } else {
      box.querySelector(".tool-prompt-status")?.before(error);
    }
  }
}

/** A new message declines what the thread's runs still wait for approval on (the server does
 * it first): those cards close and their chips say so. */
export function supersede(container) {
  for (const box of container.querySelectorAll(".tool-prompt.approval")) {
    const item = box.closest("li.message")?.querySelector(`.tool[data-tool-call-id="${CSS.escape(box.dataset.toolCallId)}"]`);
    setChipState(item, "declined", "Declined: a new message was sent.");
    box.remove();
  }
}

/** Cards for the calls a stored run still waits on (after a reload). */
export function restorePending(pending, viewFor) {
  for (const call of pending) {
    const view = viewFor(call);
    if (call.kind === "suspension") showSuspension(view, call);
    else showApproval(view, call);
  }
}
