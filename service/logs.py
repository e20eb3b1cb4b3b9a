"""What the service says while it works, in uvicorn's own format ("INFO:     ...").

uvicorn configures only its own loggers, so without this every line of the `exportcast`
loggers below WARNING was dropped: a first start was a silent minute. The training worker
is a separate process and configures itself with the same settings when it starts.
"""

from __future__ import annotations

import copy
import logging.config
from typing import Any

from uvicorn.config import LOGGING_CONFIG


def log_config(level: str = "INFO") -> dict[str, Any]:
    """uvicorn's logging settings, with the `exportcast` loggers printed beside its own."""
    config = copy.deepcopy(LOGGING_CONFIG)
    config["loggers"]["exportcast"] = {"handlers": ["default"], "level": level, "propagate": False}
    return config


def configure_process_logging() -> None:
    """In a worker process: print `exportcast` lines as the server does (stderr, same format)."""
    logging.config.dictConfig(log_config())
