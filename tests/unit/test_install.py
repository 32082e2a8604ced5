"""The environment itself: guards against known packaging traps."""

import pyspark


def test_pyspark_is_the_full_distribution_not_pyspark_client():
    # apache-airflow-providers-apache-spark pulls pyspark-client 4.2, which overwrites pyspark's
    # Python files; govlake does not install that provider, and this keeps it so.
    assert pyspark.__version__ == "4.3.0"
    from pyspark.find_spark_home import _find_spark_home

    assert (__import__("pathlib").Path(_find_spark_home()) / "jars").is_dir()
