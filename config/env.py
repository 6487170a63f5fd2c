"""Environment access for settings.

Every setting comes from the environment; a `.env` file in the project root is
read first (real environment variables win). A missing required value fails at
start with a message that names the variable.
"""

from __future__ import annotations

from pathlib import Path

import environ
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()
_dotenv = BASE_DIR / ".env"
if _dotenv.is_file():
    environ.Env.read_env(str(_dotenv), overwrite=False)


def required(name: str, *, hint: str = "") -> str:
    """Return the variable `name`, or fail at start naming it."""
    value = env.str(name, default="")
    if not value:
        message = f"Missing required environment variable {name}."
        if hint:
            message = f"{message} {hint}"
        raise ImproperlyConfigured(message)
    return value
