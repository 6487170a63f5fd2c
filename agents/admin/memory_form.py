"""The agent form's memory settings as fields, composed into the `memory` JSON the runtime reads.

Each field is validated by `memory.config.MemoryConfig` and its errors are shown on the
field they concern.
"""

from __future__ import annotations

import json
from typing import Any

import jsonschema
import pydantic
from django import forms

from memory.config import DEFAULT_TEMPLATE, MemoryConfig

_SCOPES = [("resource", "Resource (the user, across threads)"), ("thread", "This thread only")]
_INDEXES = [
    ("shared", "Shared (every agent's messages in scope)"),
    ("agent", "Dedicated (this agent's own threads)"),
]
_FORMATS = [("off", "Off"), ("template", "Markdown template"), ("schema", "JSON schema")]

# form field -> where its value lives in MemoryConfig (for composing and for errors)
MEMORY_FIELDS = {
    "memory_enabled": ("enabled",),
    "memory_last_messages": ("last_messages",),
    "memory_token_limit": ("token_limit",),
    "memory_drop_tool_calls": ("drop_tool_calls",),
    "memory_generate_titles": ("generate_titles",),
    "memory_recall": ("semantic_recall",),
    "memory_recall_top_k": ("semantic_recall", "top_k"),
    "memory_recall_message_range": ("semantic_recall", "message_range"),
    "memory_recall_scope": ("semantic_recall", "scope"),
    "memory_recall_index": ("semantic_recall", "index"),
    "memory_wm_format": ("working_memory",),
    "memory_wm_scope": ("working_memory", "scope"),
    "memory_wm_template": ("working_memory", "template"),
    "memory_wm_schema": ("working_memory", "schema"),
    "memory_wm_max_chars": ("working_memory", "max_chars"),
}


class MemoryFieldsMixin(forms.Form):
    memory_enabled = forms.BooleanField(
        required=False,
        initial=True,
        label="Memory on",
        help_text="Off: a stateless agent (router, one-shot).",
    )
    memory_last_messages = forms.IntegerField(
        required=False,
        label="Last messages",
        initial=20,
        help_text="How many recent messages of the thread the model sees (0-500).",
    )
    memory_token_limit = forms.IntegerField(
        required=False,
        label="Token limit",
        help_text="Optional: trim the history oldest-first to this many tokens.",
    )
    memory_drop_tool_calls = forms.BooleanField(required=False, label="Leave tool calls out of the history")
    memory_generate_titles = forms.BooleanField(required=False, label="Generate thread titles")
    memory_recall = forms.BooleanField(
        required=False,
        label="Semantic recall",
        help_text="Recall similar older messages (they are then embedded).",
    )
    memory_recall_top_k = forms.IntegerField(
        required=False, initial=3, label="Recall: top K", help_text="1-50"
    )
    memory_recall_message_range = forms.IntegerField(
        required=False,
        initial=2,
        label="Recall: message range",
        help_text="Neighbours before and after each hit (0-20).",
    )
    memory_recall_scope = forms.ChoiceField(
        required=False, choices=_SCOPES, initial="resource", label="Recall: scope"
    )
    memory_recall_index = forms.ChoiceField(
        required=False, choices=_INDEXES, initial="shared", label="Recall: index"
    )
    memory_wm_format = forms.ChoiceField(
        required=False, choices=_FORMATS, initial="off", label="Working memory", widget=forms.RadioSelect
    )
    memory_wm_scope = forms.ChoiceField(
        required=False, choices=_SCOPES, initial="resource", label="Working memory: scope"
    )
    memory_wm_template = forms.CharField(
        required=False,
        label="Working memory: template",
        initial=DEFAULT_TEMPLATE,
        widget=forms.Textarea(attrs={"rows": 6, "cols": 80}),
        strip=False,
    )
    memory_wm_schema = forms.CharField(
        required=False,
        label="Working memory: JSON schema",
        widget=forms.Textarea(attrs={"rows": 8, "cols": 80, "spellcheck": "false"}),
        help_text='A JSON Schema (draft 2020-12), e.g. {"type": "object", "properties": {"name": {"type": "string"}}}',
    )
    memory_wm_max_chars = forms.IntegerField(
        required=False, initial=4000, label="Working memory: max characters"
    )


def memory_initial(stored: dict[str, Any] | None) -> dict[str, Any]:
    """The memory fields' initial values from the stored settings."""
    try:
        config = MemoryConfig.model_validate(stored or {})
    except pydantic.ValidationError:
        config = MemoryConfig()
    recall, wm = config.semantic_recall, config.working_memory
    initial: dict[str, Any] = {
        "memory_enabled": config.enabled,
        "memory_last_messages": config.last_messages,
        "memory_token_limit": config.token_limit,
        "memory_drop_tool_calls": config.drop_tool_calls,
        "memory_generate_titles": config.generate_titles,
        "memory_recall": recall is not None,
    }
    if recall is not None:
        initial |= {
            "memory_recall_top_k": recall.top_k,
            "memory_recall_message_range": recall.message_range,
            "memory_recall_scope": recall.scope,
            "memory_recall_index": recall.index,
        }
    if wm is not None and wm.enabled:
        initial |= {
            "memory_wm_format": "schema" if wm.json_schema is not None else "template",
            "memory_wm_scope": wm.scope,
            "memory_wm_template": wm.template if wm.template is not None else DEFAULT_TEMPLATE,
            "memory_wm_schema": json.dumps(wm.json_schema, indent=2) if wm.json_schema is not None else "",
            "memory_wm_max_chars": wm.max_chars,
        }
    return initial


def memory_compose(form: forms.BaseForm, cleaned: dict[str, Any]) -> dict[str, Any] | None:
    """The `memory` JSON from the fields, validated; None (with field errors added) when invalid."""
    memory: dict[str, Any] = {
        "enabled": bool(cleaned.get("memory_enabled")),
        "last_messages": _or(cleaned.get("memory_last_messages"), 20),
        "drop_tool_calls": bool(cleaned.get("memory_drop_tool_calls")),
        "generate_titles": bool(cleaned.get("memory_generate_titles")),
    }
    if cleaned.get("memory_token_limit") is not None:
        memory["token_limit"] = cleaned["memory_token_limit"]
    if cleaned.get("memory_recall"):
        memory["semantic_recall"] = {
            "top_k": _or(cleaned.get("memory_recall_top_k"), 3),
            "message_range": _or(cleaned.get("memory_recall_message_range"), 2),
            "scope": cleaned.get("memory_recall_scope") or "resource",
            "index": cleaned.get("memory_recall_index") or "shared",
        }
    wm_format = cleaned.get("memory_wm_format") or "off"
    if wm_format != "off":
        wm: dict[str, Any] = {
            "scope": cleaned.get("memory_wm_scope") or "resource",
            "max_chars": _or(cleaned.get("memory_wm_max_chars"), 4000),
        }
        if wm_format == "template":
            wm["template"] = cleaned.get("memory_wm_template") or DEFAULT_TEMPLATE
        else:
            raw = (cleaned.get("memory_wm_schema") or "").strip()
            try:
                wm["schema"] = json.loads(raw) if raw else None
            except ValueError as error:
                form.add_error("memory_wm_schema", f"Enter valid JSON: {error}")
                return None
            if not isinstance(wm["schema"], dict):
                form.add_error("memory_wm_schema", "Enter a JSON Schema object ({...}).")
                return None
        memory["working_memory"] = wm
    try:
        MemoryConfig.model_validate(memory)
    except pydantic.ValidationError as error:
        _field_errors(form, error)
        return None
    except jsonschema.SchemaError as error:
        path = "/".join(str(p) for p in error.absolute_path) or "(root)"
        form.add_error("memory_wm_schema", f"Not a valid JSON Schema at {path}: {error.message}")
        return None
    return {k: v for k, v in memory.items() if v is not None}


def _or(value: Any, default: int) -> Any:
    return default if value is None else value


def _field_errors(form: forms.BaseForm, error: pydantic.ValidationError) -> None:
    by_path = {path: field for field, path in MEMORY_FIELDS.items()}
    for item in error.errors():
        loc = tuple(str(p) for p in item["loc"])
        field = next((by_path[loc[:n]] for n in range(len(loc), 0, -1) if loc[:n] in by_path), None)
        message = str(item["msg"]).removeprefix("Value error, ")
        if field is None or field not in form.fields:
            form.add_error(None, f"memory: {message}")
        else:
            form.add_error(field, message)
