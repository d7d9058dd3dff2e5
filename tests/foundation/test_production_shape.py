"""docker-compose.yml and the Dockerfile describe the production shape the README
promises; scripts/prod_smoke.sh runs the same services for real (CI runs it)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent


def compose() -> dict:
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())


def test_compose_runs_every_service_with_a_health_check():
    services = compose()["services"]
    assert set(services) == {"postgres", "redis", "migrate", "web", "worker", "beat"}
    for name in ("postgres", "redis", "web", "worker", "beat"):
        assert services[name]["healthcheck"]["test"], name
    assert "pg_isready" in services["postgres"]["healthcheck"]["test"]
    assert services["redis"]["healthcheck"]["test"][1:] == ["redis-cli", "ping"]
    assert services["web"]["command"][:2] == ["gunicorn", "flexpool.wsgi"]
    assert services["worker"]["command"][:4] == ["celery", "-A", "flexpool", "worker"]
    assert services["beat"]["command"][:4] == ["celery", "-A", "flexpool", "beat"]
    assert services["migrate"]["command"] == ["python", "manage.py", "migrate", "--noinput"]


def test_the_app_services_run_in_production_mode_after_migrating():
    services = compose()["services"]
    for name in ("web", "worker", "beat"):
        service = services[name]
        env = service["environment"]
        assert env["DEBUG"] == "false"
        assert env["SECRET_KEY_FILE"].startswith("/run/secrets/")
        assert "SECRET_KEY" not in env
        assert env["DATABASE_URL"].startswith("postgres://")
        assert env["REDIS_URL"].startswith("redis://redis:")
        assert "ALLOWED_HOSTS" in env
        assert service["depends_on"]["migrate"]["condition"] == "service_completed_successfully"
        assert service["depends_on"]["postgres"]["condition"] == "service_healthy"


def test_the_image_installs_hashed_requirements_and_collects_static_files():
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert "FROM python:3.11-slim" in dockerfile
    assert "pip install --require-hashes" in dockerfile
    assert "-r requirements/base.txt" in dockerfile
    assert "npm run --silent build" in dockerfile
    assert "collectstatic --noinput" in dockerfile
    assert "USER flexpool" in dockerfile


def test_the_web_command_is_a_valid_gunicorn_configuration_with_production_settings(tmp_path):
    secret = tmp_path / "secret_key"
    secret.write_text("a-long-random-secret-for-the-gunicorn-config-check-1234567890abcdef")
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "DEBUG": "false",
        "SECRET_KEY_FILE": str(secret),
        "ALLOWED_HOSTS": "flex.example.test",
        "FLEXPOOL_VAR_DIR": str(tmp_path),
    }
    result = subprocess.run(
        [str(BIN / "gunicorn"), "--check-config", "flexpool.wsgi", "--config", "gunicorn.conf.py"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
