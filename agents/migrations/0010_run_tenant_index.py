"""Drop the run table's index on tenant alone: (tenant, -created_at) serves every lookup by tenant,
and each index is written by every run's insert. Only the index goes (the foreign key stays)."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("agents", "0009_tool_approval_required"),
        ("core", "0003_membership_role"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name="run",
                    name="tenant",
                    field=models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="+",
                        to="core.tenant",
                    ),
                ),
            ],
            database_operations=[
                migrations.RunSQL(
                    sql='DROP INDEX IF EXISTS "agents_run_tenant_id_095a2563"',
                    reverse_sql='CREATE INDEX IF NOT EXISTS "agents_run_tenant_id_095a2563" ON "agents_run" ("tenant_id")',
                ),
            ],
        ),
    ]
