"""The one Spark session of a build."""

from __future__ import annotations

import os
import sys

from pyspark.sql import SparkSession

from govlake.config import Settings
from govlake.errors import GovlakeError


def spark_session(settings: Settings, app_name: str) -> SparkSession:
    if settings.uses_s3:
        # Needs the hadoop-aws jars and s3a settings, which the warehouse issue brings.
        raise GovlakeError(
            "Spark cannot read the lake from S3 yet (no s3a support in this build): "
            "run the warehouse build on the embedded profile for now"
        )
    os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
    # Python UDF workers run this interpreter (its pyarrow), not whatever python is on PATH.
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    builder = (
        SparkSession.builder.appName(app_name)
        .master(settings.spark_master)
        .config("spark.driver.memory", settings.spark_driver_memory)
        .config("spark.driver.host", "127.0.0.1")
        .config("spark.ui.enabled", "false")
        .config("spark.sql.shuffle.partitions", "8")
        .config("spark.sql.session.timeZone", "Asia/Shanghai")
        # Parquet timestamps from Arrow carry no zone: read them as the local wall time they are.
        .config("spark.sql.parquet.inferTimestampNTZ.enabled", "true")
    )
    return builder.getOrCreate()
