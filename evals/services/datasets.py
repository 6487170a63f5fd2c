"""Datasets and cases: create, change, delete (each change bumps the dataset's version),
and import from / export to fixture files (JSON or YAML)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import yaml
from django.db import IntegrityError, transaction
from django.db.models import F, Max

from core.access import Actor, owned
from core.errors import Conflict, NotFound, ValidationFailed
from evals.models import Case, Dataset
from evals.validation import case_validate

CASE_FIELDS = (
    "name", "input_messages", "request_context", "expected_output", "expected_tools", "forbidden_tools",
    "expected_tool_calls", "reference_context", "assertions", "tags",
)  # fmt: skip


def _managed_dataset(actor: Actor, dataset_id: int, *, lock: bool = False) -> Dataset:
    """The dataset if the actor may change it (its owner or a tenant admin), else a 404."""
    queryset = owned(Dataset.objects.all(), actor)
    if lock:
        queryset = queryset.select_for_update()
    dataset = queryset.filter(pk=dataset_id).first()
    if dataset is None:
        raise NotFound("Dataset not found.")
    return dataset


def _bump(dataset: Dataset) -> None:
    Dataset.objects.filter(pk=dataset.pk).update(version=F("version") + 1)
    dataset.refresh_from_db(fields=["version", "updated_at"])


def _name_taken(name: str) -> Conflict:
    return Conflict(
        f"A case named {name!r} already exists in this dataset.", details={"name": ["Already exists."]}
    )


def _same_scope(*, actor: Actor, name: str, tenant_wide: bool) -> Any:
    """The datasets named `name` that a new one of the actor's would clash with: the owner's own
    (names are unique per owner), or for a tenant-wide one the tenant-wide ones."""
    owner_id = None if tenant_wide else actor.user_id
    named = Dataset.objects.filter(tenant_id=actor.tenant_id, name=name)
    return named.filter(owner__isnull=True) if owner_id is None else named.filter(owner_id=owner_id)


def dataset_create(*, actor: Actor, name: str, description: str = "", tenant_wide: bool = False) -> Dataset:
    """A new, empty dataset owned by the actor (`tenant_wide`: no owner, for imports by operators).

    Names are unique per owner, and among the tenant-wide datasets: a name the caller already
    uses is a Conflict; another member's dataset of that name does not matter (and is not
    revealed)."""
    if _same_scope(actor=actor, name=name, tenant_wide=tenant_wide).exists():
        raise Conflict(f"A dataset named {name!r} already exists.", details={"name": ["Already exists."]})
    try:
        with transaction.atomic():
            return Dataset.objects.create(
                tenant_id=actor.tenant_id,
                owner_id=None if tenant_wide else actor.user_id,
                name=name,
                description=description,
            )
    except IntegrityError:
        raise Conflict(
            f"A dataset named {name!r} already exists.", details={"name": ["Already exists."]}
        ) from None


@transaction.atomic
def dataset_update(*, actor: Actor, dataset_id: int, description: str) -> Dataset:
    dataset = _managed_dataset(actor, dataset_id, lock=True)
    dataset.description = description
    dataset.save(update_fields=["description", "updated_at"])
    return dataset


@transaction.atomic
def dataset_delete(*, actor: Actor, dataset_id: int) -> None:
    _managed_dataset(actor, dataset_id, lock=True).delete()


@transaction.atomic
def case_create(*, actor: Actor, dataset_id: int, data: Any) -> Case:
    dataset = _managed_dataset(actor, dataset_id, lock=True)
    fields = case_validate(data)
    if dataset.cases.filter(name=fields["name"]).exists():
        raise _name_taken(fields["name"])
    position = (dataset.cases.aggregate(last=Max("position"))["last"] or 0) + 1
    case = Case.objects.create(dataset=dataset, position=position, **fields)
    _bump(dataset)
    return case


@transaction.atomic
def case_update(*, actor: Actor, dataset_id: int, case_id: int, data: Any) -> Case:
    dataset = _managed_dataset(actor, dataset_id, lock=True)
    case = dataset.cases.filter(pk=case_id).first()
    if case is None:
        raise NotFound("Case not found.")
    fields = case_validate(data, partial_of=case_as_dict(case))
    if fields["name"] != case.name and dataset.cases.filter(name=fields["name"]).exists():
        raise _name_taken(fields["name"])
    for key, value in fields.items():
        setattr(case, key, value)
    case.save()
    _bump(dataset)
    return case


@transaction.atomic
def case_delete(*, actor: Actor, dataset_id: int, case_id: int) -> None:
    dataset = _managed_dataset(actor, dataset_id, lock=True)
    deleted, _ = dataset.cases.filter(pk=case_id).delete()
    if not deleted:
        raise NotFound("Case not found.")
    _bump(dataset)


def case_as_dict(case: Case) -> dict[str, Any]:
    return {name: getattr(case, name) for name in CASE_FIELDS}


def dataset_as_dict(dataset: Dataset) -> dict[str, Any]:
    """The fixture-file shape: name, description, version, cases."""
    return {
        "name": dataset.name,
        "description": dataset.description,
        "version": dataset.version,
        "cases": [case_as_dict(case) for case in dataset.cases.all()],
    }


def fixture_read(path: Path) -> dict[str, Any]:
    """A dataset fixture: YAML (`.yaml`, `.yml`) or JSON."""
    try:
        text = path.read_text()
    except OSError as error:
        raise ValidationFailed(
            f"Cannot read {path}: {error.strerror}", details={"path": [str(path)]}
        ) from error
    try:
        data = yaml.safe_load(text) if path.suffix in {".yaml", ".yml"} else json.loads(text)
    except (yaml.YAMLError, ValueError) as error:
        raise ValidationFailed(f"{path} is not valid {path.suffix[1:].upper()}: {error}") from error
    if not isinstance(data, dict) or not isinstance(data.get("cases"), list):
        raise ValidationFailed(f"{path}: expected an object with `name` and a list of `cases`.")
    return data


def fixture_write(path: Path, data: dict[str, Any]) -> None:
    if path.suffix in {".yaml", ".yml"}:
        path.write_text(yaml.safe_dump(data, sort_keys=False, allow_unicode=True))
    else:
        path.write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n")


@transaction.atomic
def dataset_import(*, actor: Actor, data: dict[str, Any], tenant_wide: bool = False) -> Dataset:
    """Create the named dataset or replace the cases of the existing one of the same owner (the
    actor's own, or with `tenant_wide` the tenant-wide one); the version grows only when the
    cases differ. Every case is validated first:
    field errors are keyed `cases.<index>.<field>`."""
    name = data.get("name")
    if not isinstance(name, str) or not name:
        raise ValidationFailed("A dataset needs a name.", details={"name": ["Required."]})
    cases: list[dict[str, Any]] = []
    errors: dict[str, Any] = {}
    for index, raw in enumerate(data.get("cases") or []):
        try:
            cases.append(case_validate(raw))
        except ValidationFailed as error:
            errors[f"cases.{index}"] = error.details
    names = [c["name"] for c in cases]
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        errors["cases"] = [f"Duplicate case names: {', '.join(duplicates)}."]
    if errors:
        raise ValidationFailed(f"Dataset {name!r} has invalid cases.", details=errors)
    existing = _same_scope(actor=actor, name=name, tenant_wide=tenant_wide).order_by("pk").first()
    if existing is None:
        dataset = dataset_create(
            actor=actor, name=name, description=str(data.get("description", "")), tenant_wide=tenant_wide
        )
    else:
        dataset = _managed_dataset(actor, existing.pk, lock=True)
        if [case_as_dict(c) for c in dataset.cases.all()] == cases:
            return dataset
        dataset.cases.all().delete()
        _bump(dataset)
    Case.objects.bulk_create(
        [Case(dataset=dataset, position=i + 1, **fields) for i, fields in enumerate(cases)]
    )
    return dataset
