"""Which column holds the phone numbers: the one whose values parse as numbers, not a pattern."""

from __future__ import annotations

from pathlib import Path

import pytest

from smsdesk.services.imports.mapping import guess

from .conftest import assert_promise


@pytest.mark.parametrize(
    "country,numbers",
    [
        ("GB", ["07400 123401", "07400 123402", "+44 7400 123403", "07400123404"]),
        # In Germany a date's digits even parse as a landline ("20151104"): still not a phone column.
        ("DE", ["0151 23456701", "0151 23456702", "+49 151 23456703", "015123456704"]),
    ],
)
def test_without_a_header_dates_are_not_the_phone_column(tmp_path: Path, country: str, numbers: list[str]) -> None:
    dates = ["01.06.2013", "15.07.2014", "03.02.2012", "28.11.2015"]
    iso = ["2015-11-04", "2016-01-20", "2014-09-30", "2013-12-01"]
    p = tmp_path / "no_header.csv"
    p.write_text(
        "".join(f"Kunde {i},{d},{s},{n}\n" for i, (d, s, n) in enumerate(zip(dates, iso, numbers, strict=True))),
        encoding="utf-8",
    )
    table, report = assert_promise(p, country)
    assert not table.has_header
    assert guess(table, country).phone == 3
    assert report.accepted == 4 and report.rejected == 0


def test_google_export_with_empty_phone_values_takes_the_column_that_holds_numbers(tmp_path: Path) -> None:
    p = tmp_path / "google.csv"
    p.write_text(
        "Name,Given Name,Family Name,Phone 1 - Type,Phone 1 - Value,Phone 2 - Type,Phone 2 - Value,phone\n"
        "Grace Hopper,Grace,Hopper,,,,,07400 123401\n"
        "Alan Turing,Alan,Turing,,,,,+44 7400 123402\n"
        "Ada Lovelace,Ada,Lovelace,,,,,07400123403\n",
        encoding="utf-8",
    )
    table, report = assert_promise(p)
    assert table.headers[guess(table).phone or 0] == "phone"
    assert report.accepted == 3


def test_a_named_mobile_column_beats_a_fuller_landline_column(tmp_path: Path) -> None:
    """Preferring filled columns must not pick office landlines over the mobiles."""
    p = tmp_path / "outlook.csv"
    p.write_text(
        "First Name,Business Phone,Mobile Phone\n"
        "Ada,020 7946 0001,07400 123401\nBea,020 7946 0002,\nCy,020 7946 0003,07400 123403\n",
        encoding="utf-8",
    )
    table, _ = assert_promise(p)
    assert table.headers[guess(table).phone or 0] == "Mobile Phone"


def test_numbers_of_another_country_still_find_their_column(tmp_path: Path) -> None:
    """Kenyan numbers with the UK chosen: the column is found, and each row says why it fails."""
    p = tmp_path / "kenya.csv"
    p.write_text(
        "Wanjiru,12.03.2019,0722 000001\nOtieno,2020-01-15,0722 000002\nAkinyi,05/06/2018,0733 000003\n",
        encoding="utf-8",
    )
    table, report = assert_promise(p, "GB")
    assert guess(table, "GB").phone == 2
    assert report.rejected == 3 and {r.reason for r in report.rejected_items} == {"invalid_number"}
    assert guess(table, "KE").phone == 2
