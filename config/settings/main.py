"""The product's settings: every concern's module, composed."""

from config.settings.api import *  # noqa: F403
from config.settings.base import *  # noqa: F403
from config.settings.charts import *  # noqa: F403
from config.settings.database import *  # noqa: F403
from config.settings.evals import *  # noqa: F403
from config.settings.observability import *  # noqa: F403
from config.settings.providers import *  # noqa: F403
from config.settings.runs import *  # noqa: F403
from config.settings.services import *  # noqa: F403
from config.settings.storage import *  # noqa: F403
from config.settings.workflows import *  # noqa: F403
