"""Memory in the admin: threads with their messages, editable working memory, knowledge uploads."""

from __future__ import annotations

import json
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.urls import reverse
from django.utils.html import format_html_join

from core.access import Actor
from core.errors import ValidationFailed
from memory import services
from memory.models import KnowledgeChunk, KnowledgeDocument, Message, Thread, WorkingMemory


@admin.register(Thread)
class ThreadAdmin(admin.ModelAdmin[Thread]):
    list_display = ["id", "title", "resource_id", "agent_id", "tenant", "updated_at"]
    list_filter = ["tenant", "agent_id"]
    search_fields = ["id", "title", "resource_id"]
    readonly_fields = [
        "id",
        "tenant",
        "owner",
        "resource_id",
        "agent_id",
        "created_at",
        "updated_at",
        "message_list",
    ]
    actions = ["delete_thread_data", "delete_resource_data"]

    @admin.action(description="Delete thread data (messages, embeddings, working memory)")
    def delete_thread_data(self, request: HttpRequest, queryset: QuerySet[Thread]) -> None:
        threads = list(queryset)
        for thread in threads:
            services.thread_delete(tenant_id=thread.tenant_id, thread_id=thread.id)
        self.message_user(request, f"Deleted {len(threads)} thread(s) with their data.", messages.SUCCESS)

    @admin.action(description="Delete all memory of these threads' owners (resources)")
    def delete_resource_data(self, request: HttpRequest, queryset: QuerySet[Thread]) -> None:
        owners = set(queryset.values_list("tenant_id", "resource_id"))
        total = sum(
            services.resource_data_delete(actor=Actor.system(tenant_id=t), resource_id=r) for t, r in owners
        )
        self.message_user(request, f"Deleted {total} thread(s) of {len(owners)} owner(s).", messages.SUCCESS)

    def delete_model(self, request: HttpRequest, obj: Thread) -> None:
        services.thread_delete(tenant_id=obj.tenant_id, thread_id=obj.id)

    @admin.display(description="Messages")
    def message_list(self, obj: Thread) -> str:
        """The thread's messages, oldest first, each linked to its own page."""
        rows = Message.objects.filter(tenant_id=obj.tenant_id, thread_id=obj.id).order_by("created_at", "id")
        return (
            format_html_join(
                "",
                '<p><a href="{}">{} · {} · {}</a> {} <small>{}</small></p>',
                (
                    (
                        reverse("admin:memory_message_change", args=[m.pk]),
                        m.created_at,
                        m.role,
                        m.status,
                        m.text[:500],
                        m.run_id,
                    )
                    for m in rows
                ),
            )
            or "—"
        )


@admin.register(Message)
class MessageAdmin(admin.ModelAdmin[Message]):
    list_display = ["id", "thread", "role", "status", "created_at"]
    list_filter = ["role", "status"]
    search_fields = ["id", "thread__id", "text"]
    readonly_fields = [f.name for f in Message._meta.fields]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False


class WorkingMemoryForm(forms.ModelForm[WorkingMemory]):
    class Meta:
        model = WorkingMemory
        fields = ["markdown", "data"]

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        row = self.instance
        content: Any = cleaned.get("data") if row.format == "json" else cleaned.get("markdown", "")
        if row.format == "json" and isinstance(content, dict):
            # The form edits the whole object: keys removed in the form are deleted.
            content = {**{k: None for k in (row.data or {}) if k not in content}, **content}
        config = services.working_memory_config_for(row=row, scope=row.scope)
        assert config.working_memory is not None  # noqa: S101 - built enabled above
        try:
            services.working_memory_validate(wm=config.working_memory, existing=row, content=content)
        except ValidationFailed as error:
            raise forms.ValidationError(f"{error.message} {json.dumps(error.details)}") from error
        self.validated = (config, content)
        return cleaned


@admin.register(WorkingMemory)
class WorkingMemoryAdmin(admin.ModelAdmin[WorkingMemory]):
    form = WorkingMemoryForm
    list_display = ["key", "scope", "format", "tenant", "updated_at"]
    list_filter = ["scope", "format", "tenant"]
    search_fields = ["key", "resource_id"]
    readonly_fields = [
        "tenant",
        "scope",
        "key",
        "resource_id",
        "format",
        "json_schema",
        "max_chars",
        "updated_at",
    ]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def save_model(self, request: HttpRequest, obj: WorkingMemory, form: Any, change: bool) -> None:
        config, content = form.validated
        services.working_memory_update(
            tenant_id=obj.tenant_id,
            thread_id=obj.thread_id or obj.key,
            resource_id=obj.resource_id,
            config=config,
            content=content,
        )


class DocumentUploadForm(forms.ModelForm[KnowledgeDocument]):
    upload = forms.FileField(required=False, help_text="A text, markdown or PDF file (or paste text below).")

    class Meta:
        model = KnowledgeDocument
        fields = ["tenant", "title", "text", "metadata", "chunk_size", "chunk_overlap"]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["text"].required = False

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        upload = cleaned.get("upload")
        if upload is not None:
            try:
                text, media_type = services.document_text_extract(
                    content=upload.read(), media_type=upload.content_type or "", filename=upload.name
                )
            except ValidationFailed as error:
                raise forms.ValidationError(error.message) from error
            cleaned.update(text=text, media_type=media_type, filename=upload.name)
        elif not cleaned.get("text"):
            raise forms.ValidationError("Upload a file or paste the text.")
        return cleaned


class ChunkInline(admin.TabularInline[KnowledgeChunk, KnowledgeDocument]):
    model = KnowledgeChunk
    extra = 0
    can_delete = False
    fields = ["position", "text", "metadata", "embedder"]
    readonly_fields = ["position", "text", "metadata", "embedder"]

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(KnowledgeDocument)
class KnowledgeDocumentAdmin(admin.ModelAdmin[KnowledgeDocument]):
    form = DocumentUploadForm
    list_display = ["title", "tenant", "media_type", "status", "created_at"]
    list_filter = ["status", "tenant", "media_type"]
    search_fields = ["title", "filename"]
    inlines = [ChunkInline]

    def get_readonly_fields(self, request: HttpRequest, obj: KnowledgeDocument | None = None) -> list[str]:
        return (
            ["status", "error", "media_type", "filename"]
            if obj is None
            else [
                "tenant",
                "status",
                "error",
                "media_type",
                "filename",
                "text",
                "chunk_size",
                "chunk_overlap",
            ]
        )

    def save_model(self, request: HttpRequest, obj: KnowledgeDocument, form: Any, change: bool) -> None:
        if change:
            obj.save(update_fields=["title", "metadata"])
            return
        data = form.cleaned_data
        created = services.document_create(
            tenant_id=data["tenant"].pk,
            title=data["title"],
            text=data["text"],
            media_type=data.get("media_type", "text/plain"),
            filename=data.get("filename", ""),
            metadata=data.get("metadata") or {},
            chunk_size=data["chunk_size"],
            chunk_overlap=data["chunk_overlap"],
        )
        obj.pk = created.pk
