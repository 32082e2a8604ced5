import pytest
from pydantic import SecretStr, ValidationError

from govlake.config import DagSettings, Profile, PublicitySettings, Settings, redact_url


def test_embedded_defaults_are_local(tmp_path):
    settings = Settings(var_dir=tmp_path, _env_file=None)
    assert settings.profile is Profile.embedded
    assert settings.lake_dir == tmp_path / "lake"
    assert settings.warehouse_url.get_secret_value().startswith("duckdb:///")
    assert settings.source_url("credit").startswith("sqlite:///")
    assert not settings.uses_s3


def test_environment_overrides(monkeypatch, tmp_path):
    monkeypatch.setenv("GOVLAKE_SOURCE_URLS__CREDIT", "postgresql://u:pw@h/db")
    monkeypatch.setenv("GOVLAKE_EXTRACT_LOOKBACK_HOURS", "6")
    settings = Settings(var_dir=tmp_path, _env_file=None)
    assert settings.source_url("credit") == "postgresql://u:pw@h/db"
    assert settings.extract_lookback_hours == 6


def test_production_requires_every_secret(monkeypatch):
    monkeypatch.setenv("GOVLAKE_PROFILE", "production")
    with pytest.raises(ValidationError, match="GOVLAKE_S3_SECRET_KEY.*GOVLAKE_PERSON_KEY_SECRET"):
        Settings(_env_file=None)


def test_the_person_key_secret_is_generated_once_per_var_dir(tmp_path, monkeypatch):
    monkeypatch.delenv("GOVLAKE_PERSON_KEY_SECRET", raising=False)
    first = Settings(var_dir=tmp_path, _env_file=None).person_secret()
    assert first == Settings(var_dir=tmp_path, _env_file=None).person_secret()
    assert len(first) == 64  # 32 random bytes, in hex
    assert (tmp_path / "secrets" / "person-key").stat().st_mode & 0o077 == 0  # owner only
    assert Settings(var_dir=tmp_path / "other", _env_file=None).person_secret() != first
    monkeypatch.setenv("GOVLAKE_PERSON_KEY_SECRET", "from-the-environment")
    assert Settings(var_dir=tmp_path, _env_file=None).person_secret() == b"from-the-environment"


def test_redaction_hides_secrets_and_url_passwords(tmp_path):
    settings = Settings(
        var_dir=tmp_path,
        _env_file=None,
        s3_endpoint="127.0.0.1:1",
        s3_access_key=SecretStr("AKIDEXAMPLE"),
        s3_secret_key=SecretStr("s3-secret-value"),
        warehouse_url=SecretStr("postgresql+psycopg://govlake:pg-secret-value@127.0.0.1:5/g"),
        source_urls={"credit": SecretStr("postgresql://u:src-secret-value@h/db")},
    )
    shown = repr(settings.redacted())
    for secret in ("AKIDEXAMPLE", "s3-secret-value", "pg-secret-value", "src-secret-value"):
        assert secret not in shown
    assert "postgresql+psycopg://govlake:***@127.0.0.1:5/g" in shown


def test_redact_url_without_password():
    assert redact_url("sqlite:////tmp/x.sqlite") == "sqlite:////tmp/x.sqlite"


def test_a_child_process_rebuilds_the_same_settings_from_the_environment(monkeypatch, tmp_path):
    settings = Settings(
        profile="services",
        var_dir=tmp_path,
        _env_file=None,
        s3_endpoint="127.0.0.1:1",
        s3_access_key=SecretStr("AKIDEXAMPLE"),
        s3_secret_key=SecretStr("s3-secret-value"),
        s3_secure=True,
        source_urls={"credit": SecretStr("postgresql://u:src-secret-value@h/db")},
        dag=DagSettings(task_retries=0),
        publicity=PublicitySettings(sector_min_months={"消防": 24}, exempt_types=("警告",)),
    )
    for key, value in settings.as_env().items():
        monkeypatch.setenv(key, value)
    assert Settings(_env_file=None) == settings
