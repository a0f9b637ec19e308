"""The PostgreSQL server the bench runs on: its own databases, recreated each run, and pgbench.

Nothing here imports Django: the databases must exist before Django is set up.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from dataclasses import dataclass
from urllib.parse import unquote, urlsplit

import psycopg
from psycopg import sql

POSTGRES_SCHEMES = ("postgres", "postgresql", "pgsql", "psql")


class NotPostgres(SystemExit):
    pass


@dataclass(frozen=True)
class Server:
    host: str
    port: int
    user: str
    password: str

    @classmethod
    def from_url(cls, url: str) -> Server:
        parts = urlsplit(url)
        if parts.scheme.split("+")[0] not in POSTGRES_SCHEMES:
            raise NotPostgres(
                "bench/points.py measures Perksu on PostgreSQL, the production database; it does not run on "
                f"SQLite or anything else (DATABASE_URL={url or '<unset>'}).\n"
                "Run it as: DATABASE_URL=postgres://postgres@127.0.0.1:5432/perksu .venv/bin/python bench/points.py"
            )
        return cls(
            host=parts.hostname or "127.0.0.1",
            port=parts.port or 5432,
            user=unquote(parts.username or "postgres"),
            password=unquote(parts.password or ""),
        )

    def url(self, dbname: str) -> str:
        auth = self.user + (f":{self.password}" if self.password else "")
        return f"postgres://{auth}@{self.host}:{self.port}/{dbname}"

    def connect(self, dbname: str = "postgres") -> psycopg.Connection:
        return psycopg.connect(
            host=self.host,
            port=self.port,
            user=self.user,
            password=self.password or None,
            dbname=dbname,
            autocommit=True,
        )

    def recreate(self, dbname: str) -> None:
        """Drop (closing any session still on it) and create `dbname`, so every run starts empty."""
        with self.connect() as conn:
            conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(dbname)))
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(dbname)))

    def drop(self, dbname: str) -> None:
        with self.connect() as conn:
            conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(dbname)))

    def settings(self) -> dict[str, str]:
        with self.connect() as conn:
            names = ["server_version", "shared_buffers", "synchronous_commit", "fsync", "max_connections"]
            return {name: conn.execute(sql.SQL("SHOW {}").format(sql.Identifier(name))).fetchone()[0] for name in names}

    def pgbench_env(self) -> dict[str, str]:
        env = dict(os.environ)
        env.update(PGHOST=self.host, PGPORT=str(self.port), PGUSER=self.user)
        if self.password:
            env["PGPASSWORD"] = self.password
        return env


def pgbench_tps(server: Server, *, dbname: str, clients: int, duration: int) -> float:
    """TPC-B-like pgbench at scale 1 — one branch row that every transaction updates, the
    same shape as one tenant pool under awards — with prepared statements."""
    exe = shutil.which("pgbench")
    if exe is None:
        raise SystemExit("pgbench is not installed (Debian: apt-get install postgresql-client).")
    server.recreate(dbname)
    env = server.pgbench_env()
    subprocess.run([exe, "-i", "-s", "1", "-q", dbname], env=env, check=True, capture_output=True)  # noqa: S603
    run = subprocess.run(  # noqa: S603 - pgbench from PATH, our own arguments
        [exe, "-c", str(clients), "-j", str(clients), "-T", str(duration), "-M", "prepared", dbname],
        env=env,
        check=True,
        capture_output=True,
        text=True,
    )
    match = re.search(r"tps = ([0-9.]+) \(without initial connection time\)", run.stdout)
    if match is None:
        raise RuntimeError(f"could not read pgbench's tps from:\n{run.stdout}\n{run.stderr}")
    return float(match.group(1))
