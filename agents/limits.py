"""How long a client's model name and idempotency key may be: the widths of a run's `model` and
`idempotency_key` columns (`agents.models.Run`). Longer values are refused where they come in
(body, query, header, WebSocket frame), naming their field. A leaf module, so the models, the
API and the chat frames can all import it."""

MODEL_NAME_MAX_LENGTH = 200
IDEMPOTENCY_KEY_MAX_LENGTH = 200
