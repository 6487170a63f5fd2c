"""The browser chat UI and the streaming edges (SSE route, WebSocket consumer)."""
