"""The records package loads each area's records when first asked for (storage/records/__init__.py)."""

from __future__ import annotations

import importlib
import pkgutil

import pytest

from smsdesk.storage import records


def test_every_record_is_found_where_the_table_says() -> None:
    defined: dict[str, str] = {}
    for info in pkgutil.iter_modules(records.__path__):
        module = importlib.import_module(f"{records.__name__}.{info.name}")
        for name in module.__all__:
            assert name not in defined, f"{name} is defined in {defined[name]} and {info.name}"
            defined[name] = info.name
            assert getattr(records, name) is getattr(module, name)
    assert defined == records.WHERE  # a record added to a submodule must be listed in WHERE


def test_an_unknown_name_is_an_attribute_error() -> None:
    with pytest.raises(AttributeError, match="NoSuchRecord"):
        records.NoSuchRecord  # noqa: B018
