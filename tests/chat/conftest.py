from __future__ import annotations

import os
from typing import Any

import pytest

from tests.chat import scripted_runtime


@pytest.fixture
def scripted_chat(openai_server: Any, settings: Any) -> Any:
    """The chat edges driven by the scripted runtime against the scripted model server."""
    settings.CHAT_RUNTIME = "tests.chat.scripted_runtime.ScriptedRuntime"
    os.environ["SCRIPTED_BASE_URL"] = openai_server.base_url
    scripted_runtime.PERSISTED.clear()
    return openai_server
