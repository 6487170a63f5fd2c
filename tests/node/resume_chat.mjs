// Drives the AI SDK's own chat (AbstractChat, what useChat() wraps) against the chat route:
// a stream whose connection drops mid-answer, resumed the way useChat({resume: true}) does
// (chat.resumeStream(): GET <api>/<chatId>/stream) in the same tab and in a fresh one (a
// reload or another tab), a resume after the run ended (204: nothing to do), then
// regenerate(). Prints a JSON report.
// Usage: node resume_chat.mjs <chat-url> <api-token> <chat-id> <text>
import { writeSync } from "node:fs";
import net from "node:net";
import { AbstractChat, DefaultChatTransport } from "ai";

const [url, token, chatId, text] = process.argv.slice(2);

class State {
  constructor(messages = []) {
    this.messages = messages;
    this.status = "ready";
    this.error = undefined;
  }
  pushMessage(message) { this.messages = [...this.messages, message]; }
  popMessage() { this.messages = this.messages.slice(0, -1); }
  replaceMessage(index, message) {
    this.messages = [...this.messages.slice(0, index), message, ...this.messages.slice(index + 1)];
  }
  snapshot(thing) { return structuredClone(thing); }
}

class Chat extends AbstractChat {
  constructor({ messages, ...init }) { super({ ...init, state: new State(messages) }); }
}

// A TCP proxy that cuts the connection once the first text delta has come through it.
function droppingProxy(target) {
  const { hostname, port } = new URL(target);
  let cut = 0;
  const server = net.createServer((client) => {
    const upstream = net.connect(Number(port), hostname);
    client.on("data", (data) => upstream.write(data));
    upstream.on("data", (data) => {
      client.write(data);
      if (data.includes('"text-delta"')) {
        cut += 1;
        client.destroy();
        upstream.destroy();
      }
    });
    client.on("error", () => upstream.destroy());
    upstream.on("error", () => client.destroy());
    client.on("close", () => upstream.destroy());
  });
  return new Promise((resolve) => server.listen(0, "127.0.0.1", () => resolve({
    server, url: target.replace(`${hostname}:${port}`, `127.0.0.1:${server.address().port}`), cuts: () => cut,
  })));
}

const textOf = (message) => (message?.parts ?? []).filter((p) => p.type === "text").map((p) => p.text).join("");
const summary = (chat) => chat.messages.map((m) => ({ id: m.id, role: m.role, text: textOf(m) }));
const headers = { Authorization: `Token ${token}` };
const requests = [];
const fetchLogged = async (input, init) => {
  const response = await fetch(input, init);
  requests.push({ method: init?.method ?? "GET", url: String(input), status: response.status });
  return response;
};
const errors = [];
const log = (what) => writeSync(2, `${new Date().toISOString()} ${what}\n`);
const proxy = await droppingProxy(url);
log(`proxy ${proxy.url}`);

// 1. The first tab: its connection drops after the first text delta.
const tab = new Chat({
  id: chatId,
  transport: new DefaultChatTransport({ api: proxy.url, headers, fetch: fetchLogged }),
  onError: (e) => errors.push(String(e)),
});
log("send");
await tab.sendMessage({ text });
log(`dropped: ${tab.status}`);
const dropped = { status: tab.status, messages: summary(tab), cuts: proxy.cuts() };

// 2. A fresh tab (a reload) with the stored user message resumes while the run goes on...
const reloaded = new Chat({
  id: chatId,
  messages: [tab.messages[0]],
  transport: new DefaultChatTransport({ api: url, headers, fetch: fetchLogged }),
  onError: (e) => errors.push(String(e)),
});
// 3. ... and so does the first tab itself, straight from the server this time.
tab.transport = new DefaultChatTransport({ api: url, headers, fetch: fetchLogged });
await Promise.all([reloaded.resumeStream(), tab.resumeStream()]);
log("resumed");
const resumed = { tab: summary(tab), reloaded: summary(reloaded), status: [tab.status, reloaded.status] };

// 4. After the run ended there is nothing to resume: the messages stay as they are.
await reloaded.resumeStream();
log("after end");
const afterEnd = { status: reloaded.status, messages: summary(reloaded) };

// 5. regenerate() replaces the last answer.
await tab.regenerate();
const regenerated = { status: tab.status, messages: summary(tab) };

proxy.server.close();
process.stdout.write(JSON.stringify({ dropped, resumed, afterEnd, regenerated, requests, errors }));
