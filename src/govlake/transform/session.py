"""The one Spark session of a build, on the local lake or, over s3a, on the lake's S3 server."""

from __future__ import annotations

import os
import sys
from typing import TYPE_CHECKING

from govlake.config import Settings
from govlake.errors import GovlakeError

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

# Spark's Hadoop (3.5) defaults these to strings such as "60s", which hadoop-aws 3.3.1 (the jar
# `make install` brings) reads as plain numbers and fails on. Plain numbers, in the units both
# versions assume, work with either jar.
S3A_DURATIONS = {
    "threads.keepalivetime": "60",  # seconds
    "connection.timeout": "200000",  # milliseconds
    "connection.establish.timeout": "30000",  # milliseconds
    "multipart.purge.age": "86400",  # seconds
    "connection.ttl": "300000",  # milliseconds
    "connection.idle.time": "60000",  # milliseconds
    "connection.acquisition.timeout": "60000",  # milliseconds
    "retry.interval": "500",  # milliseconds
    "retry.throttle.interval": "500",  # milliseconds
    "assumed.role.session.duration": "1800",  # seconds
}


def spark_session(settings: Settings, app_name: str) -> SparkSession:
    from pyspark.sql import SparkSession  # here: submit, in Airflow workers, needs only the conf

    os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
    # Python UDF workers run this interpreter (its pyarrow), not whatever python is on PATH.
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    builder = SparkSession.builder.appName(app_name).master(settings.spark_master)
    for key, value in spark_conf(settings).items():
        builder = builder.config(key, value)
    return builder.getOrCreate()


def spark_conf(settings: Settings) -> dict[str, str]:
    """The session's configuration; on S3 it holds the lake's secret key (Spark redacts keys
    named like secrets wherever it shows its configuration)."""
    conf = {
        "spark.driver.memory": settings.spark_driver_memory,
        "spark.driver.host": "127.0.0.1",
        "spark.ui.enabled": "false",
        "spark.ui.showConsoleProgress": "false",  # no progress bars in task logs
        "spark.sql.shuffle.partitions": "8",
        "spark.sql.session.timeZone": "Asia/Shanghai",
        # Parquet timestamps from Arrow carry no zone: read them as the local wall time they are.
        "spark.sql.parquet.inferTimestampNTZ.enabled": "true",
    }
    if settings.spark_event_log_dir is not None:
        settings.spark_event_log_dir.mkdir(parents=True, exist_ok=True)
        conf |= {
            "spark.eventLog.enabled": "true",
            "spark.eventLog.dir": settings.spark_event_log_dir.resolve().as_uri(),
            "spark.eventLog.compress": "false",  # JSON lines govlake.spark_profile reads
        }
    if not settings.uses_s3:
        return conf
    return conf | s3a_conf(settings) | jars_conf(settings)


def s3a_conf(settings: Settings) -> dict[str, str]:
    """Hadoop's s3a file system on the lake's bucket: path-style addressing (SeaweedFS and MinIO
    serve buckets under one host name) and the lake's own keys, not AWS's credential chain."""
    if settings.s3_access_key is None or settings.s3_secret_key is None:
        raise GovlakeError("GOVLAKE_S3_ENDPOINT is set but GOVLAKE_S3_ACCESS_KEY/SECRET_KEY is not")
    scheme = "https" if settings.s3_secure else "http"
    s3a = {
        "endpoint": f"{scheme}://{settings.s3_endpoint}",
        "endpoint.region": settings.s3_region,
        "path.style.access": "true",
        "connection.ssl.enabled": str(settings.s3_secure).lower(),
        "aws.credentials.provider": "org.apache.hadoop.fs.s3a.SimpleAWSCredentialsProvider",
        "access.key": settings.s3_access_key.get_secret_value(),
        "secret.key": settings.s3_secret_key.get_secret_value(),
    }
    return {f"spark.hadoop.fs.s3a.{key}": value for key, value in (s3a | S3A_DURATIONS).items()}


def jars_conf(settings: Settings) -> dict[str, str]:
    """Where hadoop-aws comes from: the local jars or Maven coordinates (no secrets, so
    spark-submit may take them on its command line)."""
    jars = {"spark.jars": settings.spark_jars, "spark.jars.packages": settings.spark_jars_packages}
    if not any(jars.values()):
        raise GovlakeError(
            "the lake is on S3 but Spark has no hadoop-aws jar for s3a: run `make install`, "
            "or set GOVLAKE_SPARK_JARS or GOVLAKE_SPARK_JARS_PACKAGES"
        )
    return {key: value for key, value in jars.items() if value}
