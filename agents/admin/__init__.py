"""The agents admin: agents with versions, tools, model routes and runs."""

from agents.admin.agent import AgentAdmin
from agents.admin.runs import RunAdmin
from agents.admin.tools import ModelRouteAdmin, ToolAdmin

__all__ = ["AgentAdmin", "ModelRouteAdmin", "RunAdmin", "ToolAdmin"]
