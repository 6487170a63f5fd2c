"""The admin: thread pages, editing working memory with validation, uploads, the delete action."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from memory.models import KnowledgeDocument, Message, Thread, WorkingMemory
from memory.services import working_memory_update
from tests.memory.conftest import config, say

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def staff_client(client, user):
    user.is_staff = user.is_superuser = True
    user.save()
    client.force_login(user)
    return client


def test_thread_page_and_delete_action(openai_server, settings, staff_client, tenant):
    settings.EMBEDDER = "scripted/embed-test"
    say(tenant.pk, "t1", "u1", "user", "hello admin")
    key = Thread.objects.get(tenant=tenant, id="t1").pk
    page = staff_client.get(f"/admin/memory/thread/{key}/change/")
    assert page.status_code == 200
    assert b"hello admin" in page.content

    staff_client.post("/admin/memory/thread/", {"action": "delete_thread_data", "_selected_action": [key]})
    assert not Thread.objects.exists()
    assert not Message.objects.exists()


def test_working_memory_edit_is_validated_against_its_schema(staff_client, tenant):
    cfg = config(working_memory={"schema": {"type": "object", "properties": {"age": {"type": "integer"}}}})
    row = working_memory_update(
        tenant_id=tenant.pk, thread_id="t", resource_id="u1", config=cfg, content={"age": 3}
    )
    url = f"/admin/memory/workingmemory/{row.pk}/change/"

    bad = staff_client.post(url, {"markdown": "", "data": '{"age": "three"}'})
    assert bad.status_code == 200
    assert b"is not of type" in bad.content
    staff_client.post(url, {"markdown": "", "data": '{"age": 4}'})
    assert WorkingMemory.objects.get().data == {"age": 4}


def test_document_upload_form_indexes_it(openai_server, settings, staff_client, tenant):
    settings.EMBEDDER = "scripted/embed-test"
    upload = SimpleUploadedFile(
        "notes.md", b"# Notes\n\nThe office opens at nine.", content_type="text/markdown"
    )
    response = staff_client.post(
        "/admin/memory/knowledgedocument/add/",
        {
            "tenant": tenant.pk,
            "title": "Notes",
            "text": "",
            "metadata": "{}",
            "chunk_size": 500,
            "chunk_overlap": 50,
            "upload": upload,
            "chunks-TOTAL_FORMS": 0,
            "chunks-INITIAL_FORMS": 0,
        },
    )
    assert response.status_code == 302, response.content[:2000]
    document = KnowledgeDocument.objects.get()
    assert (document.media_type, document.status) == ("text/markdown", "indexed")
