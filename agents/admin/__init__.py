"""The agents admin: agents with versions, tools, model routes, runs and pending approvals."""

from agents.admin.agent import AgentAdmin
from agents.admin.approvals import ToolCallGateAdmin
from agents.admin.runs import RunAdmin
from agents.admin.tools import ModelRouteAdmin, ToolAdmin

__all__ = ["AgentAdmin", "ModelRouteAdmin", "RunAdmin", "ToolAdmin", "ToolCallGateAdmin"]
