// The AI SDK's approval flow with a reload during the continuation: a Chat (AbstractChat, what
// useChat wraps) sends a message, answers the `approval-requested` part with
// addToolApprovalResponse (sendAutomaticallyWhen sends the decision, and the route streams the
// run's continuation), and while that continuation streams a fresh tab, holding the messages
// as they were before the decision (a reload), calls resumeStream(), as useChat({resume: true})
// does on mount: GET <api>/<chatId>/stream. Nothing of the SDK is changed.
//
// Usage: node resume_approval.mjs '<json>' with {sdk: "ai" | "ai6", url, token, chatId, text}
// Prints {tab, reloaded, errors, requests} as JSON (each tab: {messages, status}).
const config = JSON.parse(process.argv[2]);
const { AbstractChat, DefaultChatTransport, lastAssistantMessageIsCompleteWithApprovalResponses } =
  await import(config.sdk);

class PlainState {
  constructor(messages = []) {
    this.status = "ready";
    this.error = undefined;
    this.messages = messages;
  }
  pushMessage = (message) => {
    this.messages = this.messages.concat(message);
  };
  popMessage = () => {
    this.messages = this.messages.slice(0, -1);
  };
  replaceMessage = (index, message) => {
    this.messages = [...this.messages.slice(0, index), this.snapshot(message), ...this.messages.slice(index + 1)];
  };
  snapshot = (value) => structuredClone(value);
}

class HeadlessChat extends AbstractChat {
  constructor({ messages, ...init }) {
    super({ ...init, state: new PlainState(messages) });
  }
}

const requests = [];
const errors = [];
const transport = () =>
  new DefaultChatTransport({
    api: config.url,
    headers: { Authorization: `Token ${config.token}` },
    fetch: async (input, init) => {
      const response = await fetch(input, init);
      requests.push({ method: init?.method ?? "GET", url: String(input), status: response.status });
      return response;
    },
  });

async function until(check, what) {
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline) {
    if (check()) return;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  throw new Error(`timed out waiting for ${what}`);
}

const tab = new HeadlessChat({
  id: config.chatId,
  transport: transport(),
  sendAutomaticallyWhen: lastAssistantMessageIsCompleteWithApprovalResponses,
  onError: (error) => errors.push(`tab: ${error}`),
});
const pending = () =>
  (tab.messages.at(-1)?.parts ?? []).filter((p) => p.type.startsWith("tool-") && p.state === "approval-requested");
const textOf = (chat) =>
  (chat.messages.at(-1)?.parts ?? []).filter((p) => p.type === "text").map((p) => p.text).join("");

await tab.sendMessage({ text: config.text });
await until(() => tab.status === "ready" && pending().length > 0, "the approval request");
const beforeDecision = structuredClone(tab.messages); // what a reload finds stored
const [part] = pending();
await tab.addToolApprovalResponse({ id: part.approval.id, approved: true });
// The continuation is streaming (its first words arrived) when the other tab reloads.
await until(() => textOf(tab).length > 0, "the continuation's first text");

const reloaded = new HeadlessChat({
  id: config.chatId,
  messages: beforeDecision,
  transport: transport(),
  onError: (error) => errors.push(`reloaded: ${error}`),
});
await reloaded.resumeStream();
await until(() => reloaded.status === "ready" || reloaded.status === "error", "the resumed stream");
await until(() => tab.status === "ready" || tab.status === "error", "the continuation");
process.stdout.write(
  JSON.stringify({
    tab: { messages: tab.messages, status: tab.status },
    reloaded: { messages: reloaded.messages, status: reloaded.status },
    errors,
    requests,
  }),
);
