// Reads the chat route with the AI SDK's own client pieces: DefaultChatTransport
// (what useChat() uses) sends the request and parses the SSE stream against the
// SDK's chunk schema; readUIMessageStream assembles the UI message. Prints the
// final message as JSON. Usage: node read_stream.mjs <chat-url> <api-token> <text>
import { DefaultChatTransport, readUIMessageStream } from "ai";

const [url, token, text] = process.argv.slice(2);
const transport = new DefaultChatTransport({
  api: url,
  headers: { Authorization: `Token ${token}` },
});
const errors = [];
const stream = await transport.sendMessages({
  chatId: `node-${Date.now()}`,
  trigger: "submit-message",
  messageId: undefined,
  abortSignal: undefined,
  messages: [{ id: "u1", role: "user", parts: [{ type: "text", text }] }],
});
let last;
for await (const message of readUIMessageStream({ stream, onError: (e) => errors.push(String(e)) })) {
  last = message;
}
process.stdout.write(JSON.stringify({ message: last, errors }));
