"""Knowledge documents: upload (file or text), list, get, delete, search; always within the caller's tenant."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from core.access import actor_for_user
from core.api import fields
from core.api.pagination import PAGE_PARAMETERS, page_response, paged
from memory import selectors, services
from memory.api.serializers import DocumentOut

MAX_UPLOAD_BYTES = 20 * 1024 * 1024


class KnowledgeHitOut(serializers.Serializer[dict[str, Any]]):
    documentId = serializers.IntegerField()
    title = serializers.CharField()
    text = serializers.CharField()
    score = serializers.FloatField()
    metadata = serializers.DictField()


class KnowledgeSearchOut(serializers.Serializer[dict[str, Any]]):
    results = KnowledgeHitOut(many=True)


DocumentPage = paged(DocumentOut, "DocumentPage")


class DocumentListCreateApi(APIView):
    class InputSerializer(serializers.Serializer[dict[str, Any]]):
        class Meta:
            ref_name = "DocumentCreate"

        title = fields.CharField(max_length=300, required=False)
        text = fields.CharField(required=False, trim_whitespace=False)
        file = serializers.FileField(required=False)
        mediaType = fields.CharField(max_length=100, required=False, default="text/plain")
        metadata = fields.JSONObjectField(required=False, default=dict)
        chunkSize = fields.IntegerField(min_value=100, max_value=8000, default=1000)
        chunkOverlap = fields.IntegerField(min_value=0, max_value=2000, default=150)

        def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
            if bool(attrs.get("text")) == bool(attrs.get("file")):
                raise serializers.ValidationError({"file": ["Send a file or text (one of them)."]})
            upload = attrs.get("file")
            if upload is not None and upload.size > MAX_UPLOAD_BYTES:
                raise serializers.ValidationError({"file": [f"Larger than {MAX_UPLOAD_BYTES} bytes."]})
            return attrs

    @extend_schema(
        operation_id="memory_knowledge_documents_list", parameters=PAGE_PARAMETERS, responses=DocumentPage
    )
    def get(self, request: Request) -> Response:
        actor = actor_for_user(request.user)
        return page_response(request, self, selectors.document_list(actor=actor), DocumentOut)

    @extend_schema(
        operation_id="memory_knowledge_documents_create",
        request=InputSerializer,
        responses={201: DocumentOut},
    )
    def post(self, request: Request) -> Response:
        actor = actor_for_user(request.user)
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        upload = values.get("file")
        if upload is not None:
            text, media_type = services.document_text_extract(
                content=upload.read(), media_type=upload.content_type or "", filename=upload.name or ""
            )
            filename = upload.name or ""
        else:
            text, media_type, filename = values["text"], values["mediaType"], ""
        document = services.document_create(
            tenant_id=actor.tenant_id,
            owner_id=actor.user_id,
            title=values.get("title") or filename or "Untitled",
            text=text,
            media_type=media_type,
            filename=filename,
            metadata=values["metadata"],
            chunk_size=values["chunkSize"],
            chunk_overlap=values["chunkOverlap"],
        )
        return Response(DocumentOut(document).data, status=status.HTTP_201_CREATED)


class DocumentDetailApi(APIView):
    @extend_schema(responses=DocumentOut)
    def get(self, request: Request, document_id: int) -> Response:
        actor = actor_for_user(request.user)
        return Response(DocumentOut(selectors.document_get(actor=actor, document_id=document_id)).data)

    @extend_schema(responses={204: None})
    def delete(self, request: Request, document_id: int) -> Response:
        """Members delete their own uploads; tenant admins any of the tenant's (docs/security.md)."""
        actor = actor_for_user(request.user)
        services.document_delete(document=selectors.document_for_change(actor=actor, document_id=document_id))
        return Response(status=status.HTTP_204_NO_CONTENT)


class KnowledgeSearchApi(APIView):
    class QuerySerializer(serializers.Serializer[dict[str, Any]]):
        class Meta:
            ref_name = "KnowledgeSearchQuery"

        query = fields.CharField(max_length=2000)
        topK = fields.IntegerField(min_value=1, max_value=50, default=5)
        filters = fields.JSONObjectField(required=False)

    @extend_schema(
        operation_id="memory_knowledge_search", parameters=[QuerySerializer], responses=KnowledgeSearchOut
    )
    def get(self, request: Request) -> Response:
        actor = actor_for_user(request.user)
        data = self.QuerySerializer(data=request.query_params)
        data.is_valid(raise_exception=True)
        hits = services.knowledge_search(
            tenant_id=actor.tenant_id,
            query=data.validated_data["query"],
            filters=data.validated_data.get("filters"),
            top_k=data.validated_data["topK"],
        )
        return Response(
            {
                "results": [
                    {
                        "documentId": h.document_id,
                        "title": h.title,
                        "text": h.text,
                        "score": h.score,
                        "metadata": h.metadata,
                    }
                    for h in hits
                ]
            }
        )
