"""Templates: merge fields, fallbacks, which fields a template uses."""

from __future__ import annotations

import pytest

from smsdesk.domain.template import compile_template, field_key, fields_used


def test_merge_and_fallback() -> None:
    t = compile_template("Hi {{first_name|there}}, see you {{ Appointment }}.")
    assert t.render({"first_name": "Ann", "appointment": "Mon 10:00"}) == "Hi Ann, see you Mon 10:00."
    assert t.render({"first_name": "  ", "appointment": "Tue"}) == "Hi there, see you Tue."


def test_fields_and_required_fields() -> None:
    t = compile_template("{{a}} {{b|x}} {{a}} {{C-D}}")
    assert t.fields == ("a", "b", "c_d")
    assert t.required_fields == ("a", "c_d")
    assert t.missing({"a": "1", "c_d": ""}) == ("c_d",)
    assert fields_used("no fields") == ()


@pytest.mark.parametrize(
    "name,key",
    [
        ("First Name", "first_name"),
        ("first-name", "first_name"),
        ("  E-mail Address ", "e_mail_address"),
        ("Phone 1 - Value", "phone_1_value"),
    ],
)
def test_field_keys_are_loose(name: str, key: str) -> None:
    assert field_key(name) == key


def test_unclosed_braces_stay_visible() -> None:
    t = compile_template("Hi {{name, and {{}} too")
    assert not t.is_personalised
    assert t.render({}) == "Hi {{name, and {{}} too"


def test_empty_fallback_is_allowed() -> None:
    t = compile_template("Hi{{ title|}} {{name}}")
    assert t.required_fields == ("name",)
    assert t.render({"name": "Bo"}) == "Hi Bo"
