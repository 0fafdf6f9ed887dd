"""`arq entrypoints.worker.main.WorkerSettings`: the worker configured from the environment.

Importing this module is starting a worker, so it reads the environment here (it connects to nothing).
`renewals worker` does the same without arq's command line.
"""

from __future__ import annotations

import os

from entrypoints.settings import load_settings
from entrypoints.worker.settings import worker_settings_class

__all__ = ["WorkerSettings"]

WorkerSettings = worker_settings_class(load_settings(os.environ))
