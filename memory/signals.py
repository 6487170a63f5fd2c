"""Signals other apps listen to, to delete what they keep for a thread or a resource.

Both are sent inside the deleting transaction, so whatever a receiver deletes goes with the
thread (or not at all)."""

from __future__ import annotations

from django.dispatch import Signal

# kwargs: tenant_id, thread_id
thread_deleted = Signal()
# kwargs: tenant_id, resource_id, thread_ids (the resource's threads, deleted with it)
resource_data_deleted = Signal()
