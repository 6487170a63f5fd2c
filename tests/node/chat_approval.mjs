// The AI SDK's own approval flow, driven headless: a Chat (AbstractChat, the class useChat
// wraps, with a plain state like @ai-sdk/react's) on DefaultChatTransport sends a message,
// answers each `approval-requested` tool part with addToolApprovalResponse, and lets
// `sendAutomaticallyWhen: lastAssistantMessageIsCompleteWithApprovalResponses` send the
// decisions back, exactly as an app using useChat does. Nothing of the SDK is changed.
//
// Usage: node chat_approval.mjs '<json>' with
//   {sdk: "ai" | "ai6", url, token, text, body?, decisions: [{approved, reason?}, ...]}
// Prints {messages, errors, requests, status} as JSON; `requests` are the bodies sent.
const config = JSON.parse(process.argv[2]);
const { AbstractChat, DefaultChatTransport, lastAssistantMessageIsCompleteWithApprovalResponses } =
  await import(config.sdk);

class PlainState {
  constructor() {
    this.status = "ready";
    this.error = undefined;
    this.messages = [];
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
  constructor(init) {
    super({ ...init, state: new PlainState() });
  }
}

const requests = [];
const errors = [];
const transport = new DefaultChatTransport({
  api: config.url,
  headers: { Authorization: `Token ${config.token}` },
  body: config.body ?? {},
  fetch: async (input, init) => {
    requests.push(JSON.parse(init.body));
    return fetch(input, init);
  },
});
const chat = new HeadlessChat({
  id: config.chatId ?? `node-${Date.now()}`,
  transport,
  sendAutomaticallyWhen: lastAssistantMessageIsCompleteWithApprovalResponses,
  onError: (error) => errors.push(String(error)),
});

async function settled(requestCount) {
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline) {
    if (requests.length >= requestCount && (chat.status === "ready" || chat.status === "error")) return;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  throw new Error(`no answer to request ${requestCount} (status ${chat.status})`);
}

const pending = () =>
  (chat.messages.at(-1)?.parts ?? []).filter((p) => p.type.startsWith("tool-") && p.state === "approval-requested");

await chat.sendMessage({ text: config.text });
await settled(1);
const decisions = [...(config.decisions ?? [])];
while (decisions.length && pending().length && chat.status !== "error") {
  const sent = requests.length;
  for (const part of pending()) {
    const decision = decisions.shift();
    if (!decision) break;
    await chat.addToolApprovalResponse({ id: part.approval.id, approved: decision.approved, reason: decision.reason });
  }
  if (pending().length) break; // out of decisions: the SDK sends only once every call of the step is decided
  await settled(sent + 1);
}
process.stdout.write(JSON.stringify({ messages: chat.messages, errors, requests, status: chat.status }));
