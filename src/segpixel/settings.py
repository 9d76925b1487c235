"""Every setting of the server in one place.

Each field is an environment variable `SEGPIXEL_<NAME>`; the CLI's flags override them by passing
keyword arguments. Derived defaults (database URLs inside the data folder, the public URL) are
resolved once, in `resolved()`, so the rest of the code never re-derives them.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

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
    catalog_url: str | None = Field(
        None,
        description="Catalog database: sqlite:///PATH or postgresql://USER@HOST/DB "
        "(default: SQLite file catalog.db in the data folder).",
    )
    profile_url: str | None = Field(
        None,
        description="Profile store: sqlite:///PATH or redis://HOST:PORT/DB "
        "(default: SQLite file profiles.db in the data folder).",
    )
    public_url: str | None = Field(
        None,
        description="Base URL written into exported pixel tags, e.g. https://px.example.com "
        "(default: http://HOST:PORT).",
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
        1_048_576, ge=1024, description="Largest request body the API accepts (413 beyond)."
    )

    @field_validator("catalog_url", "profile_url", "public_url", mode="before")
    @classmethod
    def _blank_is_unset(cls, value: object) -> object:
        return None if value == "" else value

    def resolved(self) -> Settings:
        """A copy with every derived default filled in."""
        data_dir = self.data_dir
        return self.model_copy(
            update={
                "catalog_url": normalize_db_url(
                    self.catalog_url or f"sqlite:///{data_dir / 'catalog.db'}"
                ),
                "profile_url": self.profile_url or f"sqlite:///{data_dir / 'profiles.db'}",
                "public_url": (self.public_url or f"http://{self.host}:{self.port}").rstrip("/"),
            }
        )


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
