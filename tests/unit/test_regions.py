"""The dated region list (warehouse/regions.csv) as the quality step, the simulator and the
region dimension read it (DOMAIN.md §4)."""

from __future__ import annotations

from datetime import date

from govlake import regions

CURRENT = ["370202", "370203", "370211", "370212", "370213", "370214", "370215", "370281",
           "370283", "370285"]  # fmt: skip


def test_retired_codes_name_their_successors():
    assert regions.successors() == {"370205": "370203", "370282": "370215", "370284": "370211"}
    assert regions.districts() == CURRENT


def test_the_dimension_maps_every_code_to_the_current_one():
    dim = regions.dimension().set_index("region_code")
    assert dim.loc["370282", "current_code"] == "370215"
    assert dim.loc["370282", "valid_to"] == date(2017, 9, 20) == dim.loc["370215", "valid_from"]
    assert not dim.loc["370205", "is_current"] and dim.loc["370203", "is_current"]
    assert (dim.loc[CURRENT, "current_code"] == CURRENT).all()
