"""The instructions a run sends: the agent's own, then the style guardrails it keeps.

Every agent gets `DEFAULT_STYLE_INSTRUCTIONS` appended unless it sets its own
replacement text (`style="custom"`) or switches them off (`style="off"`).
Composed once when the agent's configuration is loaded (`agents.runtime.spec`),
so a run pays nothing for it.
"""

from __future__ import annotations

DEFAULT_STYLE_INSTRUCTIONS = """\
Writing style:
- Use plain punctuation. Do not use em dashes; use a comma, a colon, parentheses or a new sentence.
- Do not use emoji or decorative symbols.
- Do not open with praise or agreement ("Great question", "Certainly!", "Absolutely"). Start with the answer.
- Do not close with throwaway offers or summaries ("Let me know if you need anything else", \
"I hope this helps"). Stop when the answer is complete."""

STYLE_DEFAULT = "default"
STYLE_CUSTOM = "custom"
STYLE_OFF = "off"


def style_text(*, style: str, custom: str) -> str:
    """The style guardrails an agent keeps: the default, its own text, or none."""
    if style == STYLE_OFF:
        return ""
    if style == STYLE_CUSTOM:
        return custom.strip()
    return DEFAULT_STYLE_INSTRUCTIONS


def instructions_compose(*, instructions: str, style: str, custom: str) -> str:
    """The agent's instructions with its style guardrails appended."""
    extra = style_text(style=style, custom=custom)
    return f"{instructions.rstrip()}\n\n{extra}" if extra else instructions
