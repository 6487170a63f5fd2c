from django.urls import path

from memory.api import knowledge, threads

urlpatterns = [
    path("threads", threads.ThreadListCreateApi.as_view(), name="memory-threads"),
    path("threads/<str:thread_id>", threads.ThreadDetailApi.as_view(), name="memory-thread"),
    path(
        "threads/<str:thread_id>/messages", threads.ThreadMessagesApi.as_view(), name="memory-thread-messages"
    ),
    path(
        "threads/<str:thread_id>/working-memory",
        threads.WorkingMemoryApi.as_view(),
        name="memory-working-memory",
    ),
    path("search", threads.SearchApi.as_view(), name="memory-search"),
    path("resources/<str:resource_id>", threads.ResourceDataApi.as_view(), name="memory-resource-data"),
    path("knowledge/documents", knowledge.DocumentListCreateApi.as_view(), name="memory-documents"),
    path(
        "knowledge/documents/<id:document_id>", knowledge.DocumentDetailApi.as_view(), name="memory-document"
    ),
    path("knowledge/search", knowledge.KnowledgeSearchApi.as_view(), name="memory-knowledge-search"),
]
