"""Knowledge: chunking, indexing, search with filters, tenant isolation, uploads."""

from __future__ import annotations

from typing import Any

import pytest

from memory.models import KnowledgeChunk, KnowledgeDocument
from memory.services import document_create, knowledge_search
from tests.memory.conftest import new_tenant, new_user

pytestmark = pytest.mark.django_db(transaction=True)

HANDBOOK = """# Billing

## Refunds
Customers can get a full refund within 30 days of purchase by contacting support.

## Invoices
Invoices are emailed on the first day of every month.

# Shipping
Orders ship from our warehouse in Rotterdam within two business days.
"""


def test_markdown_is_split_on_headers_and_searched_semantically(embedder_local, tenant):
    document = document_create(
        tenant_id=tenant.pk,
        title="Handbook",
        text=HANDBOOK,
        media_type="text/markdown",
        metadata={"category": "policy"},
        chunk_size=200,
        chunk_overlap=20,
    )
    document.refresh_from_db()
    assert document.status == "indexed"
    chunks = list(KnowledgeChunk.objects.filter(document=document))
    assert len(chunks) == 3
    assert chunks[0].metadata["h2"] == "Refunds"
    assert chunks[0].metadata["category"] == "policy"

    [hit] = knowledge_search(tenant_id=tenant.pk, query="how do I get my money back?", top_k=1)
    assert "full refund" in hit.text
    assert hit.title == "Handbook"
    shipping = knowledge_search(tenant_id=tenant.pk, query="money back", filters={"h1": "Shipping"}, top_k=3)
    assert [h.metadata["h1"] for h in shipping] == ["Shipping"]
    assert knowledge_search(tenant_id=tenant.pk, query="refund", filters={"category": "other"}) == []


def test_search_is_restricted_to_the_tenant(embedder_local, tenant):
    other = new_tenant()
    document_create(tenant_id=other.pk, title="Other", text="Refunds are available within 30 days.")
    assert knowledge_search(tenant_id=tenant.pk, query="refund policy") == []
    assert len(knowledge_search(tenant_id=other.pk, query="refund policy")) == 1


def test_upload_over_the_api_and_other_tenants_cannot_see_it(openai_server, settings, api_client):
    from rest_framework.authtoken.models import Token
    from rest_framework.test import APIClient

    settings.EMBEDDER = "scripted/embed-test"
    from django.core.files.uploadedfile import SimpleUploadedFile

    upload = SimpleUploadedFile("faq.md", b"# FAQ\n\nWe open at nine.", content_type="text/markdown")
    response = api_client.post(
        "/api/memory/knowledge/documents", {"file": upload, "metadata": '{"team": "ops"}'}, format="multipart"
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    assert (body["title"], body["mediaType"], body["status"], body["metadata"]) == (
        "faq.md",
        "text/markdown",
        "pending",
        {"team": "ops"},
    )
    document = KnowledgeDocument.objects.get()
    assert document.status == "indexed"
    assert document.chunks.count() == 1
    results = api_client.get("/api/memory/knowledge/search", {"query": "opening hours"}).json()["results"]
    assert results[0]["documentId"] == document.pk

    stranger = new_user()
    token, _ = Token.objects.get_or_create(user=stranger)
    other = APIClient()
    other.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    assert other.get(f"/api/memory/knowledge/documents/{document.pk}").status_code == 404
    assert other.delete(f"/api/memory/knowledge/documents/{document.pk}").status_code == 404
    assert other.get("/api/memory/knowledge/search", {"query": "opening hours"}).json()["results"] == []
    assert other.get("/api/memory/knowledge/documents").json()["count"] == 0

    bad = api_client.post("/api/memory/knowledge/documents", {"title": "x"}, format="json")
    assert bad.status_code == 400
    assert "file" in bad.json()["details"]
    binary = SimpleUploadedFile("x.bin", b"\xff\xfe\x00", content_type="application/octet-stream")
    assert (
        api_client.post("/api/memory/knowledge/documents", {"file": binary}, format="multipart").status_code
        == 400
    )


def _pdf_with_text(text: str) -> bytes:
    import io

    from pypdf import PdfWriter
    from pypdf.generic import DecodedStreamObject, DictionaryObject, NameObject

    writer = PdfWriter()
    page = writer.add_blank_page(300, 144)
    font = DictionaryObject(
        {
            NameObject("/Type"): NameObject("/Font"),
            NameObject("/Subtype"): NameObject("/Type1"),
            NameObject("/BaseFont"): NameObject("/Helvetica"),
        }
    )
    fonts = DictionaryObject({NameObject("/F1"): writer._add_object(font)})
    page[NameObject("/Resources")] = DictionaryObject({NameObject("/Font"): fonts})
    content = DecodedStreamObject()
    content.set_data(f"BT /F1 18 Tf 10 100 Td ({text}) Tj ET".encode())
    page[NameObject("/Contents")] = writer._add_object(content)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def test_pdf_text_is_extracted():
    from core.errors import ValidationFailed
    from memory.services import document_text_extract

    text, media_type = document_text_extract(
        content=_pdf_with_text("Refunds within 30 days"), media_type="application/pdf", filename="p.pdf"
    )
    assert media_type == "application/pdf"
    assert "Refunds within 30 days" in text
    with pytest.raises(ValidationFailed):
        document_text_extract(content=b"%PDF-1.4 broken", media_type="application/pdf", filename="p.pdf")


@pytest.mark.django_db(transaction=True)
def test_members_delete_only_their_own_documents_and_tenant_admins_any(
    openai_server, settings, api_client, tenant
):
    from rest_framework.authtoken.models import Token
    from rest_framework.test import APIClient

    from core.models import Membership
    from tests.factories import UserFactory

    def client_for(user: Any) -> APIClient:
        token, _ = Token.objects.get_or_create(user=user)
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
        return client

    settings.EMBEDDER = "scripted/embed-test"
    created = api_client.post("/api/memory/knowledge/documents", {"title": "mine", "text": "we open at nine"})
    mine = created.json()["id"]
    colleague = client_for(UserFactory(tenant=tenant))
    assert (
        colleague.get(f"/api/memory/knowledge/documents/{mine}").status_code == 200
    )  # the tenant's knowledge
    refused = colleague.delete(f"/api/memory/knowledge/documents/{mine}")
    missing = colleague.delete("/api/memory/knowledge/documents/999999")
    assert refused.status_code == missing.status_code == 404
    assert refused.json()["code"] == missing.json()["code"] == "not_found"
    assert KnowledgeDocument.objects.filter(pk=mine).exists()

    theirs = colleague.post(
        "/api/memory/knowledge/documents", {"title": "theirs", "text": "closed on sunday"}
    )
    assert colleague.delete(f"/api/memory/knowledge/documents/{theirs.json()['id']}").status_code == 204
    admin = client_for(UserFactory(tenant=tenant, tenant__role=Membership.Role.ADMIN))
    assert admin.delete(f"/api/memory/knowledge/documents/{mine}").status_code == 204
    assert not KnowledgeDocument.objects.exists()
