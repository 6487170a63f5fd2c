"""The dataset import and export commands."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from evals.models import Dataset

pytestmark = pytest.mark.django_db

DEMO = Path(__file__).resolve().parents[2] / "evals" / "fixtures" / "demo.yaml"


def test_import_then_export_writes_the_same_cases(tenant, tmp_path, capsys):
    call_command("eval_dataset", "import", str(DEMO), tenant=tenant.slug)
    dataset = Dataset.objects.get(name="demo", tenant=tenant)
    assert dataset.owner_id is None
    assert dataset.cases.count() == 5
    out = tmp_path / "demo.json"
    call_command("eval_dataset", "export", "demo", str(out), tenant=tenant.slug)
    assert "Wrote demo v1" in capsys.readouterr().out
    call_command("eval_dataset", "import", str(out), tenant=tenant.slug)
    dataset.refresh_from_db()
    assert dataset.version == 1


def test_an_invalid_file_is_a_command_error(tenant, tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: bad\ncases:\n  - name: x\n    input: hi\n    expected_tools: [ghost]\n")
    with pytest.raises(CommandError, match="ghost"):
        call_command("eval_dataset", "import", str(bad), tenant=tenant.slug)
    assert not Dataset.objects.filter(name="bad").exists()
