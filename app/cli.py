"""The ``loyalty`` command: serve, migrate, openapi, seed-demo, create-tenant, create-key,
backfill-birth-years, repair-timestamps, distribute."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import signal
import socket
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

from app.crypto import Vault
from app.db import (
    PROJECT_ROOT,
    EmbeddedUnavailable,
    create_engine,
    create_reader,
    create_sessionmaker,
    embedded_postgres,
    migrate,
)
from app.domain.errors import DomainError
from app.services import access, demo, distribution, members, timestamps
from app.settings import Settings
from app.uow import UnitOfWork


@contextlib.contextmanager
def database(settings: Settings) -> Iterator[str]:
    """The configured database URL, or an embedded server's for the duration."""
    if settings.database_url:
        yield settings.database_url
    else:
        with embedded_postgres(settings.data_dir) as url:
            yield url


async def _with_uow(url: str, use):
    engine = create_engine(url, pool_size=2, max_overflow=0)
    reader = await create_reader(url, 1)
    try:
        return await use(UnitOfWork(create_sessionmaker(engine), reader))
    finally:
        await reader.close()
        await engine.dispose()


def run(settings: Settings, use):
    with database(settings) as url:
        return asyncio.run(_with_uow(url, use))


def cmd_migrate(settings: Settings, args: argparse.Namespace) -> None:
    with database(settings) as url:
        migrate(url)
    print("database migrated to head")


def cmd_openapi(settings: Settings, args: argparse.Namespace) -> None:
    from app.main import create_app

    schema = create_app(settings).openapi()
    out = Path(args.output)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(schema, indent=2, sort_keys=True, ensure_ascii=False) + "\n")
    print(f"wrote {out}")


def cmd_seed_demo(settings: Settings, args: argparse.Namespace) -> None:
    refuse_development_secret(settings)  # it encrypts the demo member's personal data
    key_file = settings.data_dir / "demo-key"
    remembered = key_file.read_text().strip() if key_file.exists() else None
    vault = Vault(settings.secret_key.get_secret_value())
    seeded = run(settings, lambda uow: demo.seed(uow, vault, remembered))
    key_file.parent.mkdir(parents=True, exist_ok=True)
    key_file.write_text(seeded.admin_key + "\n")
    key_file.chmod(0o600)
    print(f"demo tenant ready; admin API key: {seeded.admin_key}")
    print(f"demo tenant id: {seeded.tenant_id} (name: {access.DEMO_TENANT})")
    print(f"demo member's GOLD card: {seeded.card_number}")


def cmd_backfill_birth_years(settings: Settings, args: argparse.Namespace) -> None:
    vault = Vault(settings.secret_key.get_secret_value())
    done = run(settings, lambda uow: members.backfill_birth_years(uow, vault))
    print(f"birth years filled: {done}")


def cmd_repair_timestamps(settings: Settings, args: argparse.Namespace) -> None:
    done = run(settings, timestamps.repair_timestamps)
    for repaired in done.repaired:
        print(f"repaired {repaired}")
    if not done.repaired:
        print("no timestamp or date needed repairing")
    print(f"constraints validated: {len(done.validated)}")


def cmd_distribute(settings: Settings, args: argparse.Namespace) -> None:
    try:
        done = run(settings, distribution.distribute)
    except DomainError as exc:
        for problem in exc.extra.get("problems", ()):
            print(problem, file=sys.stderr)
        raise
    if done.citus_version is None:
        print("plain PostgreSQL (no citus extension): nothing to distribute")
        return
    for step in done.done:
        print(step)
    print(f"Citus {done.citus_version}: every table placed ({len(done.done)} step(s) this run)")


def cmd_create_tenant(settings: Settings, args: argparse.Namespace) -> None:
    tenant, issued = run(settings, lambda uow: access.create_tenant(uow, args.name, args.time_zone))
    print(f"tenant id: {tenant.id}\nadmin key: {issued.secret}")


def cmd_create_key(settings: Settings, args: argparse.Namespace) -> None:
    issued = run(settings, lambda uow: access.create_key(uow, args.tenant, args.name, args.scopes))
    print(f"key id: {issued.key.id}\nscopes: {' '.join(issued.key.scopes)}\nkey: {issued.secret}")


def cmd_serve(settings: Settings, args: argparse.Namespace) -> None:
    import uvicorn
    from uvicorn.supervisors import Multiprocess

    from app import workers

    refuse_development_secret(settings)
    # Every port is taken (or found taken) before anything starts: no database, no workers.
    single = args.workers == 1 or not workers.SUPPORTED
    if single:
        sock = listen(args.host, args.port)
    else:
        try:  # a port in use, by another server of ours too, fails here and only once
            workers.bind(args.host, args.port, reuse_port=False).close()
        except OSError as exc:
            sys.exit(f"cannot listen on {args.host}:{args.port}: {exc.strerror}")
    # uvicorn stops gracefully on SIGTERM and then raises it again, to die by it: this handler
    # makes that a normal exit instead, which stops the embedded PostgreSQL too, as Ctrl-C does.
    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(0))
    if (args.workers > 1 or settings.metrics_port) and "PROMETHEUS_MULTIPROC_DIR" not in os.environ:
        # Before prometheus_client is imported: the workers count into files the metrics read.
        os.environ["PROMETHEUS_MULTIPROC_DIR"] = tempfile.mkdtemp(prefix="loyalty-metrics-")
    if settings.metrics_port:
        from app.observability import serve_metrics

        token = settings.metrics_token.get_secret_value() if settings.metrics_token else None
        try:
            serve_metrics(args.host, settings.metrics_port, token)
        except OSError as exc:
            sys.exit(f"cannot listen on {args.host}:{settings.metrics_port}: {exc.strerror}")

    with database(settings) as url:
        # Workers inherit the resolved URL, so they share the one embedded server.
        os.environ["LOYALTY_DATABASE_URL"] = url
        print(f"API docs: http://{args.host}:{args.port}/docs", flush=True)
        key_file = settings.data_dir / "demo-key"
        # Only the embedded database's: another database's demo tenant is none of ours to show.
        if not settings.database_url and key_file.exists():
            print(f"demo API key: {key_file.read_text().strip()}", flush=True)
        config = uvicorn.Config(
            "app.main:create_app",
            factory=True,
            host=args.host,
            port=args.port,
            workers=args.workers,
            log_config=None,
            access_log=False,
            proxy_headers=True,
            server_header=False,
        )
        with contextlib.suppress(KeyboardInterrupt):
            if args.workers == 1:
                uvicorn.Server(config).run(sockets=[sock])
            elif single:
                Multiprocess(config, sockets=[sock]).run()
            else:
                # Not a socket: each worker unpickles it into one (see app.workers.Listener).
                listener = workers.Listener(args.host, args.port)
                Multiprocess(config, sockets=[listener]).run()  # type: ignore[list-item]


def listen(host: str, port: int) -> socket.socket:
    """A socket listening on (host, port), or exit with one line saying why not."""
    try:
        sock = socket.create_server(
            (host, port), family=socket.AF_INET6 if ":" in host else socket.AF_INET
        )
    except OSError as exc:
        reason = os.strerror(exc.errno) if exc.errno else str(exc)
        sys.exit(f"cannot listen on {host}:{port}: {reason}")
    sock.set_inheritable(True)  # for uvicorn's workers, where they share it
    return sock


def refuse_development_secret(settings: Settings) -> None:
    """The built-in secret is in the source: data it protects is protected from no one. Only
    the embedded development database may use it."""
    if settings.database_url and settings.uses_development_secret:
        sys.exit(
            "refusing to start: LOYALTY_SECRET_KEY is the built-in development value, which "
            "only the embedded database may use; set a secret of your own (README, Configuration)"
        )


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="loyalty", description="Member loyalty API")
    sub = p.add_subparsers(dest="command", required=True)

    serve = sub.add_parser("serve", help="serve the HTTP API")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    serve.add_argument("--workers", type=int, default=1)
    serve.set_defaults(func=cmd_serve)

    sub.add_parser("migrate", help="upgrade the database to the latest schema").set_defaults(
        func=cmd_migrate
    )

    openapi = sub.add_parser("openapi", help="write the OpenAPI document")
    openapi.add_argument("--output", default=str(PROJECT_ROOT / "openapi" / "openapi.json"))
    openapi.set_defaults(func=cmd_openapi)

    sub.add_parser("seed-demo", help="create the demo tenant and print its key").set_defaults(
        func=cmd_seed_demo
    )

    tenant = sub.add_parser("create-tenant", help="create a tenant and an admin key")
    tenant.add_argument("name")
    tenant.add_argument("--time-zone", default="Asia/Shanghai")
    tenant.set_defaults(func=cmd_create_tenant)

    key = sub.add_parser("create-key", help="create an API key for a tenant")
    key.add_argument("--tenant", required=True, help="tenant id or name (e.g. demo)")
    key.add_argument(
        "--scopes",
        nargs="+",
        required=True,
        choices=["admin", "pos", "app", "partner", "analytics"],
    )
    key.add_argument("--name", default="cli")
    key.set_defaults(func=cmd_create_key)

    sub.add_parser(
        "backfill-birth-years",
        help="keep in clear the birth year of members stored before it was (age criteria)",
    ).set_defaults(func=cmd_backfill_birth_years)

    sub.add_parser(
        "repair-timestamps",
        help="repair stored ±infinity and out-of-range timestamps and dates, then validate "
        "the checks that refuse them",
    ).set_defaults(func=cmd_repair_timestamps)

    sub.add_parser(
        "distribute",
        help="on a Citus coordinator: create the reference and distributed tables and "
        "delegate the ledger's write (idempotent); on plain PostgreSQL: nothing",
    ).set_defaults(func=cmd_distribute)
    return p


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    settings = Settings()
    try:
        args.func(settings, args)
    except DomainError as exc:
        print(f"error: {exc.detail} ({exc.code})", file=sys.stderr)
        return 1
    except EmbeddedUnavailable as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())
