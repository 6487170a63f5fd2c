"""Datasets and cases: validation with field errors, versions, fixture files, the owner model."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from core.access import Actor
from core.errors import Conflict, NotFound, ValidationFailed
from evals import selectors
from evals.services import datasets as services
from tests.evals.conftest import CASES

pytestmark = pytest.mark.django_db


def test_a_case_naming_an_unknown_tool_is_refused_with_field_errors(actor, dataset):
    with pytest.raises(ValidationFailed) as caught:
        services.case_create(
            actor=actor,
            dataset_id=dataset.pk,
            data={
                "name": "bad",
                "input": "hi",
                "forbidden_tools": ["no_such_tool"],
                "expected_tool_calls": [{"name": "ghost_tool"}],
            },
        )
    details = caught.value.details
    assert "no_such_tool" in str(details["forbidden_tools"])
    assert "ghost_tool" in str(details["expected_tool_calls.0.name"])
    assert dataset.cases.count() == 2


def test_an_assertion_with_an_invalid_json_schema_is_refused(actor, dataset):
    data = {
        "name": "bad",
        "input": "hi",
        "assertions": [{"scorer": "json_schema", "schema": {"type": "nope"}}],
    }
    with pytest.raises(ValidationFailed) as caught:
        services.case_create(actor=actor, dataset_id=dataset.pk, data=data)
    details = caught.value.details
    assert details["assertions.0"] == ["Invalid options for scorer 'json_schema'."]
    assert "Not a valid JSON Schema" in details["assertions.0.schema"][0]


def test_strict_types_no_coercion(actor, dataset):
    with pytest.raises(ValidationFailed) as caught:
        services.case_create(
            actor=actor, dataset_id=dataset.pk, data={"name": "bad", "input": "hi", "expected_output": 5}
        )
    assert "expected_output" in caught.value.details


def test_each_change_bumps_the_version(actor, dataset):
    assert dataset.version == 1
    case = services.case_create(actor=actor, dataset_id=dataset.pk, data={"name": "new", "input": "hello"})
    services.case_update(actor=actor, dataset_id=dataset.pk, case_id=case.pk, data={"expected_output": "hi"})
    services.case_delete(actor=actor, dataset_id=dataset.pk, case_id=case.pk)
    dataset.refresh_from_db()
    assert dataset.version == 4


def test_reimporting_the_same_cases_keeps_the_version_and_a_change_bumps_it(actor, dataset):
    again = services.dataset_import(actor=actor, data={"name": "basics", "cases": CASES})
    assert (again.pk, again.version) == (dataset.pk, 1)
    changed = [{**CASES[0], "expected_output": "Paris, France"}, CASES[1]]
    again = services.dataset_import(actor=actor, data={"name": "basics", "cases": changed})
    assert again.version == 2
    assert again.cases.get(name="capital").expected_output == "Paris, France"


@pytest.mark.parametrize("suffix", [".yaml", ".json"])
def test_export_and_import_round_trip_through_fixture_files(
    actor, dataset, tmp_path: Path, suffix, other_tenant_actor
):
    path = tmp_path / f"basics{suffix}"
    services.fixture_write(path, services.dataset_as_dict(dataset))
    data = services.fixture_read(path)
    assert [c["name"] for c in data["cases"]] == ["capital", "time"]
    copy = services.dataset_import(actor=other_tenant_actor, data=data)
    assert copy.tenant_id != dataset.tenant_id
    assert [services.case_as_dict(c) for c in copy.cases.all()] == [
        services.case_as_dict(c) for c in dataset.cases.all()
    ]


def test_the_shipped_demo_fixture_is_valid(actor):
    root = Path(__file__).resolve().parents[2]
    data = services.fixture_read(root / "evals" / "fixtures" / "demo.yaml")
    dataset = services.dataset_import(actor=actor, data=data)
    assert dataset.cases.filter(tags__contains=["failing-on-purpose"]).count() == 1


def test_a_fixture_with_invalid_cases_names_each_bad_case(actor, tmp_path: Path):
    path = tmp_path / "bad.yaml"
    path.write_text(yaml.safe_dump({"name": "bad", "cases": [CASES[0], {"name": "x", "input": 3}]}))
    with pytest.raises(ValidationFailed) as caught:
        services.dataset_import(actor=actor, data=services.fixture_read(path))
    assert set(caught.value.details) == {"cases.1.input", "cases.1.input_messages"}
    assert not selectors.dataset_list(actor=actor).filter(name="bad").exists()


def test_another_owner_gets_not_found_for_reads_and_writes(dataset, other_member, other_tenant_actor):
    for stranger in (other_member, other_tenant_actor):
        with pytest.raises(NotFound):
            selectors.dataset_get(actor=stranger, dataset_id=dataset.pk)
        with pytest.raises(NotFound):
            services.case_create(actor=stranger, dataset_id=dataset.pk, data={"name": "x", "input": "hi"})
        with pytest.raises(NotFound):
            services.dataset_delete(actor=stranger, dataset_id=dataset.pk)
        assert not selectors.dataset_list(actor=stranger).exists()


def test_a_tenant_admin_manages_and_a_member_only_reads_tenant_wide_datasets(
    actor, tenant_admin, other_member
):
    shared: Any = services.dataset_import(
        actor=tenant_admin, data={"name": "shared", "cases": CASES}, tenant_wide=True
    )
    assert selectors.dataset_get(actor=other_member, dataset_id=shared.pk) == shared
    with pytest.raises(NotFound):
        services.case_create(actor=other_member, dataset_id=shared.pk, data={"name": "x", "input": "hi"})
    own = services.dataset_create(actor=actor, name="mine")
    services.case_create(actor=tenant_admin, dataset_id=own.pk, data={"name": "x", "input": "hi"})
    assert own.cases.count() == 1


def test_dataset_names_are_unique_per_owner_so_another_members_name_is_not_revealed(
    actor, dataset, other_member, tenant_admin
):
    from evals.models import Dataset

    with pytest.raises(Conflict):
        services.dataset_create(actor=actor, name="basics")
    theirs = services.dataset_create(actor=other_member, name="basics")
    assert theirs.pk != dataset.pk
    assert selectors.dataset_get_by_name(actor=other_member, name="basics") == theirs
    assert selectors.dataset_get_by_name(actor=actor, name="basics") == dataset
    # An import replaces the importer's own dataset of that name, never another owner's.
    again = services.dataset_import(actor=other_member, data={"name": "basics", "cases": CASES[:1]})
    assert again == theirs
    assert dataset.cases.count() == len(CASES)
    shared = services.dataset_create(actor=tenant_admin, name="basics", tenant_wide=True)
    with pytest.raises(Conflict):
        services.dataset_create(actor=tenant_admin, name="basics", tenant_wide=True)
    system = Actor.system(tenant_id=actor.tenant_id)
    assert selectors.dataset_get_by_name(actor=system, name="basics") == shared
    assert selectors.dataset_get_by_name(actor=actor, name="basics") == dataset
    assert Dataset.objects.filter(name="basics").count() == 3


def test_another_members_dataset_name_is_free_through_the_api(dataset, other_member):
    from tests.evals.test_api import client_for

    mine = client_for(other_member).post("/api/evals/datasets", {"name": "basics"}, format="json")
    assert mine.status_code == 201, mine.json()
    assert mine.json()["owner_id"] == other_member.user_id
    taken = client_for(other_member).post("/api/evals/datasets", {"name": "basics"}, format="json")
    assert taken.status_code == 409
