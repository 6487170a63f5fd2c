"""Typed tools: `@tool` registers a Python function with pydantic input and output models.

    class WeatherIn(BaseModel):
        city: str

    class WeatherOut(BaseModel):
        summary: str

    @tool(id="weather", description="Current weather for a city", side_effect="read", label="Checking the weather…")
    def weather(ctx: ToolContext, args: WeatherIn) -> WeatherOut: ...

The JSON Schema the model sees is generated from the input model; arguments are
validated before the function runs. A tool that refuses input its schema allowed raises
`ToolInputError` (the caller's mistake); any other exception is the tool failing. Tools are synced into the database
(`tools_sync`) so operators can allowlist and disable them in the admin. Tools group into
toolkits that agents compose their tools from (`agents.tools.toolkits`).
"""

from agents.tools.context import ToolContext
from agents.tools.registry import ToolDefinition, ToolDefinitionError, ToolInputError, registry, tool
from agents.tools.toolkits import ToolkitUse, toolkit_register, toolkits

__all__ = [
    "ToolContext",
    "ToolDefinition",
    "ToolDefinitionError",
    "ToolInputError",
    "ToolkitUse",
    "registry",
    "tool",
    "toolkit_register",
    "toolkits",
]
