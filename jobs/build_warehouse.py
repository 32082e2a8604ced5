"""Spark job: build the curated tables of one day (run by govlake.transform.submit, which hands it
the caller's settings, secrets included, as GOVLAKE_* environment variables)."""

import argparse
import json
from datetime import date
from pathlib import Path

from govlake.config import get_settings
from govlake.transform.build import build

if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument(
        "--date", type=date.fromisoformat, required=True, help="the day, YYYY-MM-DD"
    )
    parser.add_argument("--result-file", type=Path, required=True, help="where to write row counts")
    args = parser.parse_args()
    args.result_file.write_text(json.dumps(build(get_settings(), args.date)))
