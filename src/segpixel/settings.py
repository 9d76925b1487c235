"""Every setting of the server in one place.

Each field is an environment variable `SEGPIXEL_<NAME>`; the CLI's flags override them by passing
keyword arguments. Derived defaults (database URLs inside the data folder, the public URL) are
resolved once, in `resolved()`, so the rest of the code never re-derives them.
"""

from __future__ import annotations

import ipaddress
from pathlib import Path
from typing import Literal

from pydantic import Field, PrivateAttr, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from segpixel.domain.users import password_errors

ENV_PREFIX = "SEGPIXEL_"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix=ENV_PREFIX, extra="ignore", frozen=True)

    host: str = Field("127.0.0.1", description="Address the server listens on.")
    port: int = Field(8080, ge=1, le=65535, description="Port the server listens on.")
    workers: int = Field(1, ge=1, le=64, description="Server worker processes.")
    data_dir: Path = Field(
        Path("./segpixel-data"),
        description="Folder for the embedded SQLite databases and the write journal.",
    )
    journal_dir: Path | None = Field(
        None,
        description="Folder of the write journal (default: journal/ in the data folder). On a "
        "disk of its own, pixels are still journaled (and answered 200) when the data folder's "
        "disk is full.",
    )
    catalog_url: str | None = Field(
        None,
        description="Catalog database: sqlite:///PATH or postgresql://USER@HOST/DB "
        "(default: SQLite file catalog.db in the data folder).",
    )
    profile_url: str | None = Field(
        None,
        description="Profile store: sqlite:///PATH, redis://HOST:PORT/DB or Redis Cluster "
        "redis+cluster://HOST:PORT[,HOST:PORT…] (startup nodes; rediss+cluster:// for TLS) "
        "(default: SQLite file profiles.db in the data folder).",
    )
    public_url: str | None = Field(
        None,
        description="Base URL written into exported pixel tags, e.g. https://px.example.com "
        "(default: the address a request reached — behind a trusted proxy, the proxy's scheme "
        "and host; http://HOST:PORT for tags exported offline).",
    )
    admin_password: SecretStr | None = Field(
        None,
        description="Password of the 'admin' user created on first start when there are no "
        "users (default: a generated password, printed once).",
    )
    token_idle_minutes: int = Field(
        120, ge=1, description="An API token lapses this long after its last use."
    )
    token_max_hours: int = Field(24, ge=1, description="An API token lapses this long after issue.")
    max_body_bytes: int = Field(
        1_048_576,
        ge=1024,
        description="Largest request body the API accepts (413 SYNTAX beyond; batch uploads "
        "have SEGPIXEL_BATCH_MAX_BYTES).",
    )
    api_rate_limit: int = Field(
        0,
        ge=0,
        description="API and console requests a minute per client IP, per worker process "
        "(429 LIMIT with Retry-After beyond; bursts up to the whole minute's worth); 0 = off. "
        "The pixel paths are never limited.",
    )
    login_rate_limit: int = Field(
        10,
        ge=0,
        description="Failed logins (POST /auth, console login) a minute per client IP, per "
        "worker process, counted before the password is checked (a burst gets at most this "
        "many 401s); beyond, every login from that IP gets 429 LIMIT until the bucket "
        "refills; 0 = off.",
    )
    login_success_limit: int = Field(
        10,
        ge=0,
        description="Successful logins of one user in 5 minutes, per worker process (as the "
        "reference allows); beyond, 429 LIMIT until the oldest is 5 minutes old; 0 = off.",
    )
    pixel_rate_limit: int = Field(
        0,
        ge=0,
        description="Segment pixel calls (/seg) a minute per client IP, per worker process; "
        "beyond, the call still gets its pixel (200, GIF or empty script) but stores and chains "
        "nothing, and X-Segpixel-Warning says so; 0 = off (the default: many browsers share an "
        "IP behind carrier-grade NAT).",
    )
    trusted_proxies: str = Field(
        "",
        description="Comma-separated IPs or networks of reverse proxies / load balancers whose "
        "X-Forwarded-For header names the client for the rate limits ('*' = any peer).",
    )
    batch_max_bytes: int = Field(
        1 << 30,
        ge=1024,
        description="Largest batch upload in bytes; the file is streamed to the data folder as "
        "it arrives.",
    )
    cookie_name: str = Field(
        "uuid2", pattern=r"^[A-Za-z0-9_-]{1,40}$", description="Name of the identity cookie."
    )
    cookie_secure: Literal["auto", "always", "never"] = Field(
        "auto",
        description="Mark the cookie 'SameSite=None; Secure': auto = when the request came over "
        "https (or X-Forwarded-Proto says so), always, or never.",
    )
    cookie_domain: str | None = Field(
        None, description="Domain attribute of the identity cookie (default: the request's host)."
    )
    tcf_vendor_id: int | None = Field(
        None,
        ge=1,
        le=65535,
        description="Our IAB TCF vendor id: with gdpr=1, storing needs its consent (default: "
        "purpose 1 consent alone).",
    )
    redis_prefix: str = Field(
        "sp:",
        description="Prefix of every Redis key segpixel writes (keep it to 3 characters: a "
        "longer one costs about 16 bytes more per user).",
    )
    redis_min_replicas: int = Field(
        1,
        ge=0,
        le=5,
        description="Redis Cluster: replicas that must acknowledge a batch (WAIT) before its "
        "pixels are answered as stored; fewer and the batch goes to the journal and is "
        "replayed. 0 = do not wait (a master crash can lose its last writes). A single Redis "
        "never waits.",
    )
    write_window_ms: float = Field(
        0.0,
        ge=0,
        le=50,
        description="Group commit: extra time a batch waits to gather writes (0: a batch is "
        "stored as soon as the previous one is done, gathering what arrived meanwhile).",
    )
    write_max_batch: int = Field(
        1000, ge=1, le=100_000, description="Group commit: batch size cap."
    )
    store_timeout_ms: int = Field(
        500,
        ge=10,
        description="A batch the profile store has not taken in this time goes to the journal.",
    )
    journal_max_bytes: int = Field(
        1 << 30,
        ge=4096,
        description="Cap of each worker's on-disk journal of the writes the profile store could "
        "not take; when it is full, a pixel still answers, with 503, X-Segpixel-Warning "
        "'not stored: the journal is full', and segpixel_writes_lost_total counts it.",
    )
    stop_timeout_s: float = Field(
        10.0,
        gt=0,
        le=300,
        description="A worker stopping (SIGTERM) exits within this many seconds whatever its "
        "stores do: closes that take longer are abandoned, and the log names them.",
    )
    sqlite_synchronous: Literal["NORMAL", "FULL"] = Field(
        "NORMAL",
        description="SQLite profile store durability: NORMAL survives a crash of segpixel, FULL "
        "also a power cut (an fsync per batch).",
    )
    jobs: bool = Field(
        True,
        description="segpixel serve starts a job runner (batch uploads, reports) beside its "
        "workers; false when runners run elsewhere (segpixel jobs).",
    )
    admin_process: bool = Field(
        True,
        description="segpixel serve answers the API, the console and /docs in a process of its "
        "own, to which the workers pass every request that is not a pixel (a local socket), so "
        "that no admin work holds up a pixel; false: each worker answers them itself.",
    )
    admin_nice: int = Field(
        10,
        ge=0,
        le=19,
        description="Niceness of the admin process (the CPU goes to pixel workers first).",
    )
    upload_dir: Path | None = Field(
        None,
        description="Where batch uploads wait for a job runner (default: uploads in the data "
        "folder); share it between machines to let their runners take each other's uploads.",
    )
    job_lease_seconds: float = Field(
        30.0,
        ge=1,
        le=600,
        description="A job runner's hold on a job, renewed a third of it apart; a runner that "
        "died leaves its jobs to another this long after its last renewal.",
    )
    job_poll_seconds: float = Field(
        1.0, gt=0, le=60, description="How often a job runner looks for new jobs."
    )
    job_concurrency: int = Field(2, ge=1, le=64, description="Jobs one runner runs at once.")
    job_member_cap: int = Field(
        1,
        ge=1,
        le=64,
        description="Jobs of one member running at once across every runner; the rest wait.",
    )
    job_nice: int = Field(
        10,
        ge=0,
        le=19,
        description="Niceness of the job runner process (the CPU goes to pixel workers first).",
    )
    job_batch_lines: int = Field(
        200,
        ge=1,
        le=100_000,
        description="Lines of a batch upload written to the store at once (each batch holds "
        "the store's write lock, or Redis' one thread, that long: the pixels wait behind it).",
    )
    job_batch_pause_ms: float = Field(
        0.0,
        ge=0,
        le=10_000,
        description="Pause of a batch upload between two batches (the store's other writers "
        "get a turn).",
    )
    loads_fold_takeover_s: float = Field(
        30.0,
        ge=0,
        le=3600,
        description="SQLite: a pixel worker leaves folding the load log into its counters to "
        "the job runner, and folds itself only when nobody has for this long while loads "
        "wait (0: every second, as the runner does). Reports fold before they read.",
    )
    job_write_share: float = Field(
        0.5,
        gt=0,
        le=1,
        description="Most of the profile store's time a batch upload takes: after a batch that "
        "held the store for t seconds it rests t * (1 - share) / share, so that the pixels' "
        "writes get in (1: no rest).",
    )
    password_threads: int = Field(
        1,
        ge=1,
        le=32,
        description="Threads that check and hash passwords (scrypt, ~16 MiB each) in the admin "
        "process (in each worker without it).",
    )
    password_nice: int = Field(
        10,
        ge=0,
        le=19,
        description="Niceness of the password threads (the worker's pixels get the CPU first).",
    )
    password_queue: int = Field(
        64,
        ge=0,
        le=10_000,
        description="Password checks a worker queues beyond its password threads; more at "
        "once get 429 LIMIT.",
    )
    catalog_poll_seconds: float = Field(
        1.0, gt=0, le=5, description="How often pixel servers look for catalog changes."
    )

    @field_validator(
        "catalog_url",
        "profile_url",
        "public_url",
        "cookie_domain",
        "tcf_vendor_id",
        "upload_dir",
        "journal_dir",
        mode="before",
    )
    @classmethod
    def _blank_is_unset(cls, value: object) -> object:
        return None if value == "" else value

    @field_validator("trusted_proxies")
    @classmethod
    def _proxies_are_addresses(cls, value: str) -> str:
        for name in (n.strip() for n in value.split(",")):
            if name and name != "*":
                try:
                    ipaddress.ip_network(name, strict=False)
                except ValueError:
                    raise ValueError(f"{name!r} is not an IP address or network") from None
        return value

    @field_validator("admin_password")
    @classmethod
    def _admin_password_rule(cls, value: SecretStr | None) -> SecretStr | None:
        """The first admin's password obeys the rule every user's password does."""
        if value is None or not value.get_secret_value():
            return None  # blank: generate one
        for error in password_errors(value.get_secret_value()):
            raise ValueError(error.message)
        return value

    # True when public_url was derived (no SEGPIXEL_PUBLIC_URL): requests then say where we are.
    _public_url_derived: bool = PrivateAttr(False)

    def resolved(self) -> Settings:
        """A copy with every derived default filled in."""
        data_dir = self.data_dir
        copy = self.model_copy(
            update={
                "catalog_url": normalize_db_url(
                    self.catalog_url or f"sqlite:///{data_dir / 'catalog.db'}"
                ),
                "profile_url": self.profile_url or f"sqlite:///{data_dir / 'profiles.db'}",
                "upload_dir": self.upload_dir or data_dir / "uploads",
                "public_url": (self.public_url or f"http://{self.host}:{self.port}").rstrip("/"),
                "journal_dir": self.journal_dir or data_dir / "journal",
            }
        )
        copy._public_url_derived = self._public_url_derived or self.public_url is None
        return copy

    def public_url_for(self, request_base: str) -> str:
        """The base of pixel URLs for a request that reached `request_base`: SEGPIXEL_PUBLIC_URL
        when set, else the request's own scheme and host (so a server on another port, or behind
        an https proxy, never hands out http://127.0.0.1:8080)."""
        if self.public_url and not self._public_url_derived:
            return self.public_url.rstrip("/")
        return request_base.rstrip("/")


def normalize_db_url(url: str) -> str:
    """Let users write postgresql://… as libpq does; SQLAlchemy needs the driver spelled out."""
    for prefix in ("postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def describe_settings() -> str:
    """The environment variables, for `segpixel --help` (generated so it cannot drift)."""
    lines = []
    for name, field in Settings.model_fields.items():
        default = field.default
        shown = "" if default is None else f" [default: {default}]"
        lines.append(f"{ENV_PREFIX}{name.upper()}: {field.description}{shown}")
    return "\n\n".join(lines)
