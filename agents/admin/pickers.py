"""The model picker of the agent form: the live catalogue grouped by tier, with a search box.

The text input stays the field (a loose name or `tier:<tier>` may be typed); the picker
beside it fills it in (the model) or appends a line (the fallbacks). When the catalogue
cannot be read, the text input is shown alone with a note saying why.
"""

from __future__ import annotations

import logging
from typing import Any

from django import forms
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString

from agents.providers.catalog import models_catalog
from agents.providers.resolution import configured_ids
from agents.providers.tiers import ModelTier

logger = logging.getLogger(__name__)

Groups = list[tuple[str, list[str]]]
_TIER_LABELS = {"thinking": "Thinking", "balanced": "Balanced", "fast": "Fast"}


def catalogue_groups(*, configured: list[str]) -> tuple[Groups, str]:
    """(models grouped by tier, then tier names and the rest; a note when the catalogue failed)."""
    try:
        catalogue: dict[str, Any] = models_catalog(configured=configured_ids(configured))
    except Exception as error:  # the form must open whatever the providers do
        logger.warning("the model catalogue could not be read for the agent form", exc_info=True)
        return [], f"The model catalogue could not be read ({type(error).__name__}); type the model name."
    models: list[dict[str, Any]] = list(catalogue["models"])
    if not any(m["discovered"] for m in models):
        errors = "; ".join(f"{p['name']}: {p['error']}" for p in catalogue["providers"] if p["error"])
        return [], f"No provider listed its models ({errors or 'empty lists'}); type the model name."
    groups: Groups = []
    for tier, label in _TIER_LABELS.items():
        ids = sorted(m["id"] for m in models if m["tier"] == tier)
        if ids:
            groups.append((label, ids))
    groups.append(("By tier (first deployed model of the tier)", [f"tier:{t}" for t in ModelTier]))
    others = sorted(m["id"] for m in models if m["tier"] is None)
    if others:
        groups.append(("Other models", others))
    return groups, ""


class _PickerMixin:
    groups: Groups
    note: str
    append: bool

    class Media:
        js = ("agents/model_picker.js",)
        css = {"all": ("agents/model_picker.css",)}

    def render(
        self, name: str, value: Any, attrs: dict[str, Any] | None = None, renderer: Any = None
    ) -> SafeString:
        field = super().render(name, value, attrs, renderer)  # type: ignore[misc]
        if not self.groups:
            return format_html('{}<p class="help model-picker-note">{}</p>', field, self.note)
        options = format_html_join(
            "",
            '<optgroup label="{}">{}</optgroup>',
            (
                (label, format_html_join("", '<option value="{}">{}</option>', ((m, m) for m in ids)))
                for label, ids in self.groups
            ),
        )
        target = (attrs or {}).get("id") or f"id_{name}"
        action = "Add to the list" if self.append else "Use this model"
        return format_html(
            '{}<div class="model-picker" data-target="{}" data-append="{}">'
            '<input type="search" placeholder="Search models (e.g. claude sonnet)" aria-label="Search models">'
            '<select size="8" aria-label="{}">{}</select></div>',
            field,
            target,
            "true" if self.append else "false",
            action,
            options,
        )


class ModelInput(_PickerMixin, forms.TextInput):
    def __init__(self, *, groups: Groups, note: str = "") -> None:
        super().__init__(attrs={"size": 60})
        self.groups, self.note, self.append = groups, note, False


class ModelListInput(_PickerMixin, forms.Textarea):
    def __init__(self, *, groups: Groups, note: str = "") -> None:
        super().__init__(attrs={"rows": 4, "cols": 60})
        self.groups, self.note, self.append = groups, note, True
