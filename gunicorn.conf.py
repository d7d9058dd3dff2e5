"""gunicorn settings for FlexPool's web service (``gunicorn flexpool.wsgi -c gunicorn.conf.py``).

Everything can be tuned from the environment: PORT, WEB_CONCURRENCY (processes),
WEB_THREADS (threads per process) and WEB_TIMEOUT (seconds)."""

import glob
import os
import tempfile

bind = f"{os.environ.get('WEB_BIND', '0.0.0.0')}:{os.environ.get('PORT', '8000')}"
workers = int(os.environ.get("WEB_CONCURRENCY", "2"))
threads = int(os.environ.get("WEB_THREADS", "4"))
timeout = int(os.environ.get("WEB_TIMEOUT", "30"))
graceful_timeout = 20
# A reverse proxy in front terminates TLS and sets X-Forwarded-Proto (see SECURE_PROXY_SSL_HEADER).
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "*")
accesslog = "-"
errorlog = "-"
loglevel = os.environ.get("LOG_LEVEL", "info").lower()

# Prometheus counters of every process in one place: each gunicorn process writes its own
# files to this directory and /metrics adds them up (flexpool.views_metrics), so a scrape
# sees the whole service whichever process answers it. Set before the app is imported.
metrics_dir = os.environ.setdefault(
    "PROMETHEUS_MULTIPROC_DIR", tempfile.mkdtemp(prefix="flexpool-metrics-")
)


def on_starting(server):  # type: ignore[no-untyped-def]
    """A restarted service starts counting from zero, as a single process would."""
    os.makedirs(metrics_dir, exist_ok=True)
    for path in glob.glob(os.path.join(metrics_dir, "*.db")):
        os.remove(path)


def child_exit(server, worker):  # type: ignore[no-untyped-def]
    """A process that exits keeps its counters but its gauges go."""
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)  # type: ignore[no-untyped-call]
