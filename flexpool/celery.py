import gc
import os
from typing import Any

from celery import Celery
from celery.signals import worker_process_init, worker_ready

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
