"""The agent form: the model and fallbacks picked from the live catalogue, the memory settings
as fields, pretty JSON for what has no field, and validation that keeps bad settings out of
the runtime (errors on the field they concern)."""

from __future__ import annotations

import json
from typing import Any

import jsonschema
from django import forms
from django.conf import settings
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from agents.admin.memory_form import MEMORY_FIELDS, MemoryFieldsMixin, memory_compose, memory_initial
from agents.admin.pickers import ModelInput, ModelListInput, catalogue_groups
from agents.admin.toolkits import ambient_choices
from agents.models import Agent
from agents.providers.config import UnknownProvider, resolve
from agents.providers.tiers import TIER_PREFIX, parse_tier


class PrettyJSONField(forms.JSONField):
    """A JSON textarea that shows the stored value indented, so operators can read and edit it."""

    def prepare_value(self, value: Any) -> str:
        if isinstance(value, forms.fields.InvalidJSONInput):
            return value
        return json.dumps(value, ensure_ascii=False, indent=2, sort_keys=True, cls=self.encoder)


def _json_widget(rows: int) -> forms.Textarea:
    return forms.Textarea(attrs={"rows": rows, "cols": 80, "class": "vLargeTextField", "spellcheck": "false"})


class ModelSettings(BaseModel):
    """The sampling settings the runtime passes to the model; anything else is a typo."""

    model_config = ConfigDict(extra="forbid", strict=True)

    temperature: float | None = Field(default=None, ge=0, le=2)
    top_p: float | None = Field(default=None, ge=0, le=1)
    max_tokens: int | None = Field(default=None, gt=0)
    seed: int | None = None
    presence_penalty: float | None = Field(default=None, ge=-2, le=2)
    frequency_penalty: float | None = Field(default=None, ge=-2, le=2)


def _pydantic_messages(error: ValidationError) -> list[str]:
    return [f"{'.'.join(str(p) for p in e['loc']) or 'value'}: {e['msg']}" for e in error.errors()]


def _check_model(name: str) -> None:
    try:
        if name.startswith(TIER_PREFIX):
            parse_tier(name)
        else:
            resolve(name)
    except ValueError as exc:
        raise forms.ValidationError(
            f"Unknown tier in {name!r}: use tier:thinking, tier:balanced or tier:fast."
        ) from exc
    except UnknownProvider as exc:
        raise forms.ValidationError(exc.message) from exc


class AgentAdminForm(forms.ModelForm[Agent], MemoryFieldsMixin):
    fallback_models = forms.CharField(
        required=False,
        help_text="One model per line, tried in order when the model fails; tier:fast stands for every "
        "deployed fast model. A JSON list works too.",
    )
    version_note = forms.CharField(
        required=False,
        max_length=300,
        help_text="Optional: why you changed the agent. Saved with the new version.",
    )
    ambient_exclude = forms.TypedMultipleChoiceField(
        choices=ambient_choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        label="Ambient tools left out",
        help_text="Ambient tools are offered to every agent; tick those this agent should not get.",
    )

    class Meta:
        model = Agent
        fields = (
            "slug",
            "name",
            "description",
            "tenant",
            "enabled",
            "instructions",
            "style",
            "style_instructions",
            "model",
            "fallback_models",
            "model_settings",
            "allow_model_override",
            "max_steps",
            "tools",
            "ambient_exclude",
            "require_approval",
            "auto_resume_suspended_tools",
            "request_context_schema",
        )
        field_classes = {
            "model_settings": PrettyJSONField,
            "request_context_schema": PrettyJSONField,
        }
        widgets = {
            "instructions": forms.Textarea(
                attrs={"rows": 24, "cols": 100, "class": "vLargeTextField agent-instructions"}
            ),
            "description": forms.Textarea(attrs={"rows": 2, "cols": 100}),
            "style": forms.RadioSelect,
            "style_instructions": forms.Textarea(attrs={"rows": 6, "cols": 100, "class": "vLargeTextField"}),
            "model_settings": _json_widget(6),
            "request_context_schema": _json_widget(12),
        }

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        agent = self.instance
        if agent.pk is not None:
            self.initial.update(memory_initial(agent.memory))
            self.initial["fallback_models"] = "\n".join(agent.fallback_models or [])
        configured = [m for m in [settings.DEFAULT_MODEL, agent.model, *(agent.fallback_models or [])] if m]
        groups, note = catalogue_groups(configured=configured)
        self.fields["model"].widget = ModelInput(groups=groups, note=note)
        self.fields["fallback_models"].widget = ModelListInput(groups=groups, note=note)

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        if not any(field in self.errors for field in MEMORY_FIELDS):
            memory = memory_compose(self, cleaned)
            if memory is not None:
                self.instance.memory = memory
        if (
            cleaned.get("style") == Agent.Style.CUSTOM
            and not (cleaned.get("style_instructions") or "").strip()
        ):
            self.add_error("style_instructions", "Write the style text, or choose the default set or off.")
        return cleaned

    def clean_model(self) -> str:
        model: str = (self.cleaned_data.get("model") or "").strip()
        if model:
            _check_model(model)
        return model

    def clean_fallback_models(self) -> list[str]:
        text = (self.cleaned_data.get("fallback_models") or "").strip()
        if not text:
            return []
        value: Any = text.splitlines()
        if text.startswith("["):
            try:
                value = json.loads(text)
            except ValueError as exc:
                raise forms.ValidationError(f"Enter one model per line, or a valid JSON list: {exc}") from exc
        value = [m.strip() if isinstance(m, str) else m for m in value]
        value = [m for m in value if m != ""]
        if not all(isinstance(m, str) for m in value):
            raise forms.ValidationError(
                'Enter model names, one per line (or a JSON list such as ["openai/gpt-4o"]).'
            )
        for model in value:
            _check_model(model)
        return [m.strip() for m in value]

    def clean_model_settings(self) -> dict[str, Any]:
        value = self._json_object("model_settings")
        try:
            ModelSettings.model_validate(value)
        except ValidationError as exc:
            raise forms.ValidationError(_pydantic_messages(exc)) from exc
        return value

    def clean_request_context_schema(self) -> dict[str, Any]:
        value = self._json_object("request_context_schema")
        if value:
            try:
                jsonschema.Draft202012Validator.check_schema(value)
            except jsonschema.SchemaError as exc:
                path = "/".join(str(p) for p in exc.absolute_path) or "(root)"
                raise forms.ValidationError(f"Not a valid JSON Schema at {path}: {exc.message}") from exc
        return value

    def _json_object(self, name: str) -> dict[str, Any]:
        value = self.cleaned_data.get(name)
        if value in (None, ""):
            return {}
        if not isinstance(value, dict):
            raise forms.ValidationError("Enter a JSON object ({...}).")
        return value
