"""Settings: one pydantic-settings object for every part of govlake.

Values come from ``GOVLAKE_*`` environment variables, then an optional ``.env`` file, then the
profile's defaults. Three profiles:

- ``embedded`` (default, ``make run``): local lake directory, DuckDB warehouse, SQLite sources.
- ``services`` (``make test``, ``make up``): the local PostgreSQL and S3 server; ``govlake services
  up`` writes their addresses and generated credentials to ``var/services/local/govlake.env``,
  which this profile reads when present.
- ``production``: nothing has a default that could be a secret; every address comes from the
  environment (or Airflow connections rendered into it).
"""

from __future__ import annotations

import json
import sys
from enum import StrEnum
from functools import lru_cache
from pathlib import Path
from typing import Any

from pydantic import BaseModel, Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

PROJECT_DIR = Path(__file__).resolve().parents[2]
LOCAL_TZ = "Asia/Shanghai"  # data intervals, business dates and source timestamps (wall time)
SYSTEMS = ("approval", "enforcement", "transaction", "credit")
SQL_SYSTEMS = ("approval", "enforcement", "credit")
# Where `make install` puts hadoop-aws and its AWS SDK for Spark's s3a: this interpreter's venv.
S3A_JARS_DIR = Path(sys.prefix) / "share" / "govlake" / "jars"


class Profile(StrEnum):
    embedded = "embedded"
    services = "services"
    production = "production"


class DagSettings(BaseSettings):
    """What DAG files read while Airflow parses them: no secrets, nothing that can fail to validate
    on a DAG processor that lacks the workers' credentials (``GOVLAKE_DAG__*``)."""

    model_config = SettingsConfigDict(env_prefix="GOVLAKE_DAG__", extra="ignore")

    task_retries: int = 2  # `govlake run` sets 0 to fail fast
    files_poke_seconds: int = 300  # how often the exchange-file sensor looks
    files_timeout_minutes: int = 360  # how long it waits for the day's file set
    build_poke_seconds: int = 300  # how often the publish DAG looks for the day's build
    build_timeout_minutes: int = 720  # how long it waits for it

    @classmethod
    def fail_fast(cls) -> DagSettings:
        """For runs a person or a test waits on: no retries, short waits."""
        return cls(
            task_retries=0,
            files_poke_seconds=5,
            files_timeout_minutes=2,
            build_poke_seconds=5,
            build_timeout_minutes=2,
        )


class GateSettings(BaseSettings):
    """Batch gate thresholds (``GOVLAKE_GATES__*``); see ``govlake.quality.gates``."""

    model_config = SettingsConfigDict(env_prefix="GOVLAKE_GATES__", extra="ignore")

    # Contracts give daily volumes at city scale; `govlake run --scale` sets the simulator's.
    volume_scale: float = 1.0
    volume_slack_rows: int = 30  # a small table's day-to-day noise is not a volume problem
    trailing_days: int = 14  # compare with the range of this many earlier incremental days
    trailing_min_days: int = 7  # ... once there is a week of them (its days off included)
    trailing_min_rows: int = 50  # ... and their median is not a small, noisy count
    trailing_factor: float = 5.0  # allowed: their minimum / factor to their maximum * factor
    freshness_hours: float = 24.0  # newest watermark at most this long before the interval end
    freshness_min_expected_rows: float = 10.0  # only tables expected to change this much daily
    quarantine_share: float = 0.05  # quarantined + rejected-file rows over all rows, per table
    quarantine_min_rows: int = 20  # a share over fewer bad rows than this is noise


class PublicitySettings(BaseSettings):
    """双公示 publicity rules of penalties (DOMAIN.md §1.3; ``GOVLAKE_PUBLICITY__*``), counted
    from the decision date: shown until the maximum period ends, repairable after the minimum.
    The longest period that applies to a decision (by its sector or any of its types) wins."""

    model_config = SettingsConfigDict(env_prefix="GOVLAKE_PUBLICITY__", extra="ignore")

    min_months: int = 3  # 国家发展改革委令第58号 (in force 2023-05-01)
    max_months: int = 36
    # 执法领域 with a longer minimum: 特种设备、安全生产、消防 at least 1 year.
    sector_min_months: dict[str, int] = Field(
        default_factory=lambda: {"特种设备": 12, "安全生产": 12, "消防": 12}
    )
    # A decision imposing only these (and at most a low fine) is not published.
    exempt_types: tuple[str, ...] = ("警告", "通报批评")
    # 较低数额罚款: fines at most this many 元 are low (the 简易程序 limits of 《行政处罚法》第51条
    # by default; sectors and localities set their own).
    low_fine_person_yuan: float = 200.0
    low_fine_organisation_yuan: float = 3000.0
    publish_simple_procedure: bool = False  # 简易程序 decisions are commonly not published


class CreditScoringSettings(BaseSettings):
    """The credit grading model (信用评价, DOMAIN.md §7.2: our proposal, not an official formula;
    ``GOVLAKE_CREDIT_SCORING__*``). An enterprise starts at ``base_points``; each record in force
    adds its points (negative: a deduction), bonuses up to ``bonus_cap`` in all; a record of a
    ``grade_d_records`` type in force grades it D whatever its score."""

    model_config = SettingsConfigDict(env_prefix="GOVLAKE_CREDIT_SCORING__", extra="ignore")

    base_points: int = 1000
    grade_a_points: int = 900  # A from here, B from grade_b_points, C from grade_c_points, else D
    grade_b_points: int = 800
    grade_c_points: int = 650
    # 行政处罚 in its publicity period: the points off by fine (万元, from this amount up); a
    # decision older than penalty_recent_months counts penalty_older_percent of them.
    penalty_fine_bands: dict[float, int] = Field(
        default_factory=lambda: {0: 5, 1: 10, 10: 20, 50: 30}
    )
    penalty_recent_months: int = 12
    penalty_older_percent: int = 50
    # Other records in force: type -> level (纳税信用级别; "" for a record without) -> points.
    record_points: dict[str, dict[str, int]] = Field(
        default_factory=lambda: {"纳税信用等级": {"A": 30, "D": -100}, "经营异常名录": {"": -50}}
    )
    grade_d_records: tuple[str, ...] = ("严重失信主体名单", "失信被执行人")
    bonus_cap: int = 100  # 表彰、信用承诺 and other bonuses count up to this in all


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="GOVLAKE_", env_file=".env", env_nested_delimiter="__", extra="ignore"
    )

    profile: Profile = Profile.embedded
    project_dir: Path = PROJECT_DIR
    var_dir: Path = PROJECT_DIR / "var"

    # Object storage: a local directory (embedded) or an S3 bucket (services, production).
    lake_dir: Path | None = None
    s3_endpoint: str | None = None
    s3_access_key: SecretStr | None = None
    s3_secret_key: SecretStr | None = None
    s3_bucket: str = "govlake"
    s3_secure: bool = False
    s3_region: str = "us-east-1"

    # SQLAlchemy URLs. They may carry passwords, so they are secrets.
    warehouse_url: SecretStr | None = None
    source_urls: dict[str, SecretStr] = Field(default_factory=dict)
    credit_db_url: SecretStr | None = None

    # The key of the HMAC that keys natural persons in the warehouse (govlake.transform.entities).
    # Unset outside production: one is generated once under var/secrets/ (never in git).
    person_key_secret: SecretStr | None = None

    # Where failure alerts are POSTed (a chat or paging webhook); it may carry a token.
    alert_webhook_url: SecretStr | None = None

    # OpenLineage transport, as the JSON of openlineage-python's transport config: unset, a file
    # of events under var/lineage/; in production HTTP to a lineage server (Marquez). It may carry
    # an API key, so it is a secret.
    lineage_transport: SecretStr | None = None

    # How long a step waits for another run of the same work to end (govlake.locks).
    lock_timeout_seconds: float = 3600.0

    # Extraction.
    extract_lookback_hours: int = 24
    extract_batch_rows: int = 50_000

    dag: DagSettings = Field(default_factory=lambda: DagSettings())
    gates: GateSettings = Field(default_factory=lambda: GateSettings())
    publicity: PublicitySettings = Field(default_factory=lambda: PublicitySettings())
    credit_scoring: CreditScoringSettings = Field(default_factory=lambda: CreditScoringSettings())

    # Spark.
    spark_master: str = "local[2]"
    spark_driver_memory: str = "2g"
    # Spark's event log (each job's stages and tasks, for its history server or a profile of a
    # build): off unless a folder is named.
    spark_event_log_dir: Path | None = None
    # s3a when the lake is on S3, as Spark's spark.jars / spark.jars.packages take them. Default:
    # the jars `make install` extracts; production sets GOVLAKE_SPARK_JARS to "" and the packages
    # to the hadoop-aws of Spark's own Hadoop (infra/production/spark-s3a.md).
    spark_jars: str = Field(
        default_factory=lambda: ",".join(str(p) for p in sorted(S3A_JARS_DIR.glob("*.jar")))
    )
    spark_jars_packages: str = ""

    @model_validator(mode="after")
    def _fill_profile_defaults(self) -> Settings:
        if self.profile is Profile.production:
            missing = [
                name
                for name in (
                    "s3_endpoint",
                    "s3_access_key",
                    "s3_secret_key",
                    "warehouse_url",
                    "person_key_secret",
                )
                if getattr(self, name) is None
            ]
            if missing:
                env = ", ".join(f"GOVLAKE_{n.upper()}" for n in missing)
                raise ValueError(f"production profile needs {env} set in the environment")
            return self
        if self.profile is Profile.embedded:
            self.lake_dir = self.lake_dir or self.var_dir / "lake"
            self.warehouse_url = self.warehouse_url or SecretStr(
                f"duckdb:///{self.var_dir / 'warehouse' / 'govlake.duckdb'}"
            )
            self.credit_db_url = self.credit_db_url or SecretStr(
                f"sqlite:///{self.var_dir / 'credit_db.sqlite'}"
            )
            for system in SQL_SYSTEMS:
                self.source_urls.setdefault(
                    system, SecretStr(f"sqlite:///{self.var_dir / 'sources' / f'{system}.sqlite'}")
                )
        return self

    @property
    def uses_s3(self) -> bool:
        return self.s3_endpoint is not None

    def person_secret(self) -> bytes:
        """The person-key HMAC secret: from the environment, else (not in production) the one
        generated for this var directory on first use, readable by its owner only."""
        if self.person_key_secret is not None:
            return self.person_key_secret.get_secret_value().encode()
        import os
        import secrets

        path = self.var_dir / "secrets" / "person-key"
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        try:  # exclusive create: of two first users, one writes it and both read the same
            fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600)
        except FileExistsError:
            pass
        else:
            with os.fdopen(fd, "w") as out:
                out.write(secrets.token_hex(32))
        return path.read_text().strip().encode()

    def source_url(self, system: str) -> str:
        try:
            return self.source_urls[system].get_secret_value()
        except KeyError:
            raise LookupError(
                f"no source URL for system {system!r}: set GOVLAKE_SOURCE_URLS__{system.upper()}"
            ) from None

    def as_env(self) -> dict[str, str]:
        """These settings as the GOVLAKE_* variables that rebuild them, for a child process (a
        spark-submit job): secrets travel in its environment, never on its command line."""
        env: dict[str, str] = {}
        for name, value in self:
            key = f"GOVLAKE_{name.upper()}"
            if isinstance(value, BaseModel):
                value = dict(value)
            if isinstance(value, dict):
                env |= {f"{key}__{k.upper()}": _env_value(v) for k, v in value.items()}
            elif value is not None:
                env[key] = _env_value(value)
        return env

    def redacted(self) -> dict[str, Any]:
        """The effective settings for people to read: secrets and URL passwords hidden."""
        shown: dict[str, Any] = {}
        for name, value in self.model_dump().items():
            if isinstance(value, dict):
                shown[name] = {k: _redact(v) for k, v in value.items()}
            else:
                shown[name] = _redact(value)
        return shown


def _env_value(value: Any) -> str:
    if isinstance(value, SecretStr):
        return value.get_secret_value()
    if isinstance(value, dict | list | tuple):  # pydantic-settings reads complex values as JSON
        return json.dumps(value, ensure_ascii=False)
    return str(value)


def _redact(value: Any) -> Any:
    if isinstance(value, SecretStr):
        return (
            redact_url(value.get_secret_value())
            if "://" in str(value.get_secret_value())
            else "**********"
        )
    return str(value) if isinstance(value, Path | StrEnum) else value


def redact_url(url: str) -> str:
    """Hide the password of a URL (``scheme://user:***@host/db``); other URLs pass unchanged."""
    from sqlalchemy.engine import make_url

    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:  # not a SQLAlchemy URL: show only its scheme
        return url.split("://", 1)[0] + "://**********"


def services_env_file(var_dir: Path, name: str = "local") -> Path:
    return var_dir / "services" / name / "govlake.env"


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings. The services profile also reads the env file of `make up`."""
    probe = Settings()
    if probe.profile is Profile.services:
        stack_env = services_env_file(probe.var_dir)
        if stack_env.exists():
            return Settings(_env_file=(stack_env, ".env"))  # environment variables still win
    return probe
