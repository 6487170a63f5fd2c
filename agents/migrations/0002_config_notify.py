"""Announce every change to agent configuration on the `agent_config` channel.

Each process caches the agent configuration its runs read (see
`agents.runtime.spec`) and empties that cache when PostgreSQL notifies this
channel, so an operator's edit or switch applies to every process at once,
whoever made it: the admin, the API, a script, or SQL by hand.
"""

from django.db import migrations

TABLES = ("agents_agent", "agents_agent_tools", "agents_tool", "agents_modelroute")

FUNCTION = """
CREATE OR REPLACE FUNCTION agents_config_notify() RETURNS trigger AS $$
BEGIN
    PERFORM pg_notify('agent_config', TG_TABLE_NAME);
    RETURN NULL;
END;
$$ LANGUAGE plpgsql;
"""

TRIGGER = """
CREATE TRIGGER {table}_config_notify
AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON {table}
FOR EACH STATEMENT EXECUTE FUNCTION agents_config_notify();
"""


class Migration(migrations.Migration):
    dependencies = [("agents", "0001_initial")]

    operations = [
        migrations.RunSQL(FUNCTION, "DROP FUNCTION IF EXISTS agents_config_notify() CASCADE;"),
        *(
            migrations.RunSQL(TRIGGER.format(table=table), f"DROP TRIGGER IF EXISTS {table}_config_notify ON {table};")
            for table in TABLES
        ),
    ]
