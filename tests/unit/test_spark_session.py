"""The Spark session's configuration, checked without starting Spark (the s3a build itself runs
in tests/integration/test_warehouse_engines.py)."""

import pytest
from pydantic import SecretStr

from govlake.config import S3A_JARS_DIR, Settings
from govlake.errors import GovlakeError
from govlake.transform.session import S3A_DURATIONS, spark_conf


def _on_s3(tmp_path, **values) -> Settings:
    return Settings(
        var_dir=tmp_path,
        _env_file=None,
        s3_endpoint="127.0.0.1:8333",
        s3_access_key=SecretStr("AKIDEXAMPLE"),
        s3_secret_key=SecretStr("s3-secret-value"),
        **values,
    )


def test_the_local_lake_needs_no_s3a(tmp_path):
    conf = spark_conf(Settings(var_dir=tmp_path, _env_file=None))
    assert not [key for key in conf if "s3a" in key or key.startswith("spark.jars")]


def test_s3a_on_the_lake_server_with_the_installed_jars(tmp_path):
    conf = spark_conf(_on_s3(tmp_path))
    assert conf["spark.hadoop.fs.s3a.endpoint"] == "http://127.0.0.1:8333"
    assert conf["spark.hadoop.fs.s3a.path.style.access"] == "true"
    assert conf["spark.hadoop.fs.s3a.connection.ssl.enabled"] == "false"
    assert conf["spark.hadoop.fs.s3a.secret.key"] == "s3-secret-value"
    assert all(value.isdigit() for value in S3A_DURATIONS.values())  # hadoop-aws 3.3.1
    jars = conf["spark.jars"].split(",")
    assert str(S3A_JARS_DIR / "hadoop-aws-3.3.1.jar") in jars  # put there by `make install`


def test_production_takes_hadoop_aws_from_maven(tmp_path):
    packages = "org.apache.hadoop:hadoop-aws:3.5.0"
    conf = spark_conf(_on_s3(tmp_path, s3_secure=True, spark_jars="", spark_jars_packages=packages))
    assert conf["spark.hadoop.fs.s3a.endpoint"].startswith("https://")
    assert conf["spark.jars.packages"] == packages and "spark.jars" not in conf


def test_no_jars_is_one_actionable_error(tmp_path):
    with pytest.raises(GovlakeError, match="make install"):
        spark_conf(_on_s3(tmp_path, spark_jars=""))
