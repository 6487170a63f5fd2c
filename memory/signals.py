"""Signals other apps listen to, to delete what they keep for a thread or a resource.

Both are sent inside the deleting transaction, so whatever a receiver deletes goes with the
thread (or not at all)."""

from __future__ import annotations

from django.dispatch import Signal

# kwargs: tenant_id, thread_id, owner_id (the thread's owner, None for a thread without one).
# A receiver deletes only that owner's rows for the thread: thread ids are chosen by clients, so
# another member may have used the same id for rows of its own before this thread existed.
thread_deleted = Signal()
# kwargs: tenant_id, resource_id, actor (who deletes: a receiver deletes only the rows for the
# resource that this actor may manage, see `core.access.owned`), threads (the resource's threads,
# deleted with it: thread id -> owner id; each thread's rows go as on `thread_deleted`)
resource_data_deleted = Signal()
