"""The `renewals` console script: serve, worker, migrate, seed-demo, and run (everything, embedded if needed)."""

from __future__ import annotations

import argparse
import asyncio
import fcntl
import os
import signal
import subprocess
import sys
from pathlib import Path
from typing import IO

from entrypoints.settings import Settings, SettingsError, load_settings

__all__ = ["main"]

ROOT = Path(__file__).resolve().parents[2]


def _settings() -> Settings:
    try:
        return load_settings(os.environ)
    except SettingsError as exc:
        sys.exit(f"configuration error: {exc}")


def migrate(settings: Settings) -> None:
    from alembic import command
    from alembic.config import Config

    if not settings.database_url:
        sys.exit("configuration error: DATABASE_URL must be set to migrate")
    config = Config(str(ROOT / "alembic.ini"))
    config.set_main_option("script_location", str(ROOT / "migrations"))
    config.set_main_option("sqlalchemy.url", settings.database_url)
    command.upgrade(config, "head")
    from entrypoints.cli_identity import ensure_roles, ensure_starter_templates
    added = ensure_roles(settings)
    if added:
        print(f"built-in roles added: {', '.join(added)}", flush=True)
    templates = ensure_starter_templates(settings)
    if templates:
        print(f"starter message templates added: {templates}", flush=True)


def seed(settings: Settings) -> int:
    from adapters.sqlalchemy.engine import make_engine
    from adapters.system.clock import SystemClock
    from entrypoints.seed import seed_demo

    async def go() -> int:
        engine = make_engine(settings.database_url or "")
        try:
            added = await seed_demo(engine, today=SystemClock(settings.business_timezone).today())
            if added:
                from entrypoints.container import build_container
                from entrypoints.resources import open_resources
                container = build_container(settings)
                async with open_resources(container):
                    await container.application.cases().open_due_cases()
            return added
        finally:
            await engine.dispose()

    return asyncio.run(go())


def _print_demo_users(settings: Settings) -> None:
    from entrypoints.cli_identity import seed_demo_users

    if settings.is_production:
        return
    print("demo sign-ins (development only; new passwords on every start; admin and client_admin set up MFA "
          "at first sign-in):", flush=True)
    for role, email, password in seed_demo_users(settings):
        print(f"  {role:<20} {email:<40} {password}", flush=True)


def serve(settings: Settings) -> None:
    import uvicorn

    from entrypoints.container import build_container
    from entrypoints.http.app import create_app

    app = create_app(build_container(settings))
    uvicorn.run(app, host=settings.host, port=settings.port, log_level=settings.log_level.lower(),
                access_log=False, log_config=None)  # keep the JSON handlers configure_logging set


def worker(settings: Settings) -> None:
    from arq.worker import Worker

    from entrypoints.worker.settings import worker_settings

    Worker(**worker_settings(settings)).run()


def _stop_on_signals() -> None:
    """Ctrl-C and SIGTERM both stop everything, even when started in the background (SIGINT ignored)."""
    def interrupt(signum: int, frame: object) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGINT, interrupt)
    signal.signal(signal.SIGTERM, interrupt)


def _hold_data_dir(data_dir: Path) -> IO[str]:
    """One `renewals run` per data folder: a second one would stop the first one's servers."""
    data_dir.mkdir(parents=True, exist_ok=True)
    lock = (data_dir / "run.lock").open("w")
    try:
        fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        sys.exit(f"another `renewals run` is using {data_dir}; stop it first (Ctrl-C) or set DATA_DIR")
    return lock


def run_all() -> None:
    """Start API and worker; with no DATABASE_URL/REDIS_URL, start embedded servers under ./.data first."""
    from contextlib import ExitStack, suppress

    _stop_on_signals()
    with ExitStack() as stack:
        if not os.environ.get("DATABASE_URL") or not os.environ.get("REDIS_URL"):
            from entrypoints.embedded import EmbeddedServices
            data_dir = Path(os.environ.get("DATA_DIR", ROOT / ".data")).resolve()
            stack.enter_context(_hold_data_dir(data_dir))
            print(f"starting embedded PostgreSQL and Redis under {data_dir} ...", flush=True)
            services = stack.enter_context(EmbeddedServices(data_dir))
            os.environ.setdefault("DATABASE_URL", services.database_url)
            os.environ.setdefault("REDIS_URL", services.redis_url)
        settings = _settings()
        migrate(settings)
        added = seed(settings)
        print(f"demo data: {'added ' + str(added) + ' policies' if added else 'kept what was there'}", flush=True)
        _print_demo_users(settings)
        procs = [subprocess.Popen([sys.executable, "-m", "entrypoints.cli", name], env=os.environ.copy())
                 for name in ("worker", "serve")]
        print(f"API docs: http://{settings.host}:{settings.port}/api/docs  (Ctrl-C stops everything)", flush=True)
        try:
            while all(p.poll() is None for p in procs):
                with suppress(subprocess.TimeoutExpired):
                    procs[0].wait(timeout=1)
        except KeyboardInterrupt:
            pass
        finally:
            for proc in procs:
                if proc.poll() is None:
                    proc.send_signal(signal.SIGTERM)
            for proc in procs:
                try:
                    proc.wait(timeout=15)
                except subprocess.TimeoutExpired:
                    proc.kill()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="renewals", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    for name, text in (("serve", "run the HTTP API"), ("worker", "run the arq worker"),
                       ("migrate", "apply database migrations"), ("seed-demo", "load demo data once"),
                       ("run", "run everything (embedded PostgreSQL and Redis when none is configured)")):
        sub.add_parser(name, help=text)
    admin = sub.add_parser("create-admin", help="create an administrator (asks for the password)")
    admin.add_argument("--email", required=True)
    admin.add_argument("--first-name", default="Platform")
    admin.add_argument("--last-name", default="Administrator")
    args = parser.parse_args(argv)
    if args.command == "run":
        run_all()
        return
    settings = _settings()
    if args.command == "serve":
        serve(settings)
    elif args.command == "worker":
        worker(settings)
    elif args.command == "migrate":
        migrate(settings)
    elif args.command == "seed-demo":
        print(f"added {seed(settings)} policies")
        _print_demo_users(settings)
    elif args.command == "create-admin":
        from entrypoints.cli_identity import create_admin
        create_admin(settings, args.email, args.first_name, args.last_name)


if __name__ == "__main__":
    main()
