"""First-start set-up for `make run`: an admin login, the default tenant and the demo agent."""

from __future__ import annotations

import secrets
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand

from agents.models import Agent
from agents.services import agent_save, tools_sync
from agents.tools import ToolkitUse
from core.tenancy import DEFAULT_TENANT_SLUG, membership_set, tenant_get_or_create

DEMO_INSTRUCTIONS = """You are the demo assistant of an agent platform.
Answer briefly and clearly, in Markdown.
Use the current_time tool for questions about the date or time anywhere,
and convert_units for conversions between km/mi, kg/lb and Celsius/Fahrenheit.
For the demo shop's sales use demo_sales; to show rows as a chart, call render_data and put
the [chart:<chartId>] marker it returns on its own line where the chart belongs.
Never invent tool results."""

DEMO_MEMORY: dict[str, Any] = {
    "last_messages": 20,
    "semantic_recall": {"top_k": 3, "message_range": 2, "scope": "resource"},
    "working_memory": {
        "enabled": True,
        "scope": "resource",
        "template": "# About the user\n- Name:\n- Location:\n- Preferences:\n",
    },
    "generate_titles": True,
}


# The demo agent's model when DEFAULT_MODEL names none: the first deployed fast-tier model (a
# demo of time, units and a chart needs no thinking model, and it is the cheapest to try).
DEMO_MODEL = "tier:fast"


class Command(BaseCommand):
    help = "Create the admin login, the default tenant and the demo agent (only what is missing)."

    def handle(self, *args: Any, **options: Any) -> None:
        password_file = settings.BASE_DIR / "var" / "admin-password.txt"
        tenant = tenant_get_or_create(slug=DEFAULT_TENANT_SLUG, name="Default")
        user_model = get_user_model()
        admin = user_model.objects.filter(username="admin").first()
        if admin is None:
            password = secrets.token_urlsafe(12)
            admin = user_model.objects.create_superuser("admin", "admin@example.com", password)
            password_file.parent.mkdir(parents=True, exist_ok=True)
            password_file.write_text(password + "\n")
            password_file.chmod(0o600)
        membership_set(user=admin, tenant=tenant)
        tools_sync()
        if not Agent.objects.filter(slug="assistant").exists():
            agent_save(
                slug="assistant",
                name="Demo assistant",
                description=(
                    "Tells the time anywhere, converts units, charts the demo shop's sales; "
                    "remembers what you tell it."
                ),
                instructions=DEMO_INSTRUCTIONS,
                model=settings.DEFAULT_MODEL or DEMO_MODEL,
                allow_model_override=True,
                memory=DEMO_MEMORY,
                tools=["update_working_memory"],
                toolkits=[ToolkitUse(toolkit="agents")],  # current_time, convert_units, demo_sales
                note="Created by seed_demo",
            )
        login = password_file.read_text().strip() if password_file.exists() else "(set before; unchanged)"
        host = f"http://{settings.WEB_HOST}:{settings.WEB_PORT}"  # where `make run` serves
        self.stdout.write(
            "\n".join(
                [
                    "",
                    f"  Chat UI     {host}/",
                    f"  Admin       {host}/admin/",
                    f"  API docs    {host}/api/docs/",
                    f"  Login       admin / {login}",
                    "",
                ]
            )
        )
