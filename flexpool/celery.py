import gc
import os
from typing import Any

from celery import Celery
from celery.signals import worker_init, worker_process_init, worker_ready

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "flexpool.settings")

app = Celery("flexpool")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@worker_process_init.connect  # each prefork child, once forked
@worker_ready.connect  # a solo node runs tasks in its main process
def _gc_freeze(**_kwargs: Any) -> None:
    """What a worker process holds once started (Django's apps, models, URLs, templates:
    tens of thousands of objects that live as long as it does) is moved out of the
    garbage collector's sight, so the collections a task's allocations trigger scan only
    what tasks made, not everything again (a few ms of every matching wave otherwise)."""
    gc.freeze()


@worker_init.connect  # the node's main process, before a prefork pool forks
def _worker_database_options(**_kwargs: Any) -> None:
    """Workers bind parameters server-side and prepare repeated statements
    (``settings.WORKER_DATABASE_OPTIONS``, which says why). Set on the connections'
    settings before any of the worker's connections is opened; one already open is closed
    so the next is opened with them."""
    from django.conf import settings
    from django.db import connections

    for alias in connections:
        if connections.settings[alias]["ENGINE"] != "django.db.backends.postgresql":
            continue
        connections.settings[alias].setdefault("OPTIONS", {}).update(
            settings.WORKER_DATABASE_OPTIONS
        )
        connections[alias].close()
