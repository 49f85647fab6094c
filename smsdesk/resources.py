"""Find the plain files under ``resources/`` (icons, ``.qss`` themes) wherever smsdesk runs.

One resolver for the three ways smsdesk is started, tried in this order:

1. **Frozen** (PyInstaller): the spec copies ``resources/`` into the bundle, which PyInstaller
   unpacks at ``sys._MEIPASS`` (the one-folder build's ``_internal``; on macOS the ``.app``'s
   ``Contents/Resources``).
2. **Checkout** (and the editable install every developer uses): ``resources/`` beside the
   ``smsdesk`` package directory.
3. **Installed wheel**: ``pyproject.toml`` ships ``resources/`` as data files to
   ``<prefix>/share/smsdesk/resources`` (``resources/`` is not a Python package, and the
   layout rule keeps it at the top level). The wheel's RECORD, read through
   :mod:`importlib.metadata`, says exactly where that prefix is (venv, ``--user`` or system);
   ``sysconfig``'s data path is the fallback when the metadata has no file list.

``SMSDESK_RESOURCES`` overrides all three (handy when testing a theme edit in an installed app).
Pure stdlib, no Qt: any layer may ask for a path.
"""

from __future__ import annotations

import functools
import os
import sys
import sysconfig
from collections.abc import Iterator
from pathlib import Path

ENV_RESOURCES = "SMSDESK_RESOURCES"
DIST_NAME = "smsdesk"
# Where pyproject's [tool.setuptools.data-files] puts the tree, relative to the install prefix.
WHEEL_DATA_DIR = Path("share") / "smsdesk" / "resources"
# A file that every complete resources tree has; identifies the right directory.
_MARKER = Path("icons") / "smsdesk.svg"


class ResourceNotFound(FileNotFoundError):
    """A resource is missing: the install is incomplete (a packaging bug, not a user error)."""


def _frozen_root() -> Path | None:
    base = getattr(sys, "_MEIPASS", None)
    return Path(base) / "resources" if base else None


def _checkout_root() -> Path:
    return Path(__file__).resolve().parent.parent / "resources"


def _wheel_roots() -> list[Path]:
    # Imported here: reading package metadata (~50 ms with its import) is only needed when
    # neither a bundle nor the checkout holds the resources, i.e. in an installed wheel.
    from importlib import metadata

    roots: list[Path] = []
    try:
        dist = metadata.distribution(DIST_NAME)
    except metadata.PackageNotFoundError:
        dist = None
    if dist is not None:
        marker = (WHEEL_DATA_DIR / _MARKER).as_posix()
        for file in dist.files or ():
            posix = Path(str(file)).as_posix()
            if posix.endswith(marker):
                located = Path(str(dist.locate_file(file))).resolve()
                # .../share/smsdesk/resources/icons/smsdesk.svg -> .../share/smsdesk/resources
                roots.append(located.parent.parent)
                break
    for prefix in (sysconfig.get_path("data"), sys.prefix):
        candidate = Path(prefix) / WHEEL_DATA_DIR
        if candidate not in roots:
            roots.append(candidate)
    return roots


def candidates() -> list[Path]:
    """Every directory the resolver would try, in order (for error messages and tests)."""
    return list(_candidates())


def _candidates() -> Iterator[Path]:
    env = os.environ.get(ENV_RESOURCES)
    if env:
        yield Path(env).expanduser()
    frozen = _frozen_root()
    if frozen is not None:
        yield frozen
    yield _checkout_root()
    yield from _wheel_roots()  # only reached when the earlier candidates had no resources


@functools.cache
def root() -> Path:
    """The ``resources`` directory of this installation.

    Raises:
        ResourceNotFound: no candidate holds a complete resources tree.
    """
    for directory in _candidates():
        if (directory / _MARKER).is_file():
            return directory
    where = ", ".join(str(d) for d in candidates())
    raise ResourceNotFound(f"smsdesk's resources folder is missing (looked in: {where}); reinstall smsdesk.")


def path(relative: str) -> Path:
    """The file ``resources/<relative>`` (for example ``"icons/smsdesk.svg"``).

    Raises:
        ResourceNotFound: the file is not part of this installation.
    """
    target = root() / relative
    if not target.is_file():
        raise ResourceNotFound(f"smsdesk resource '{relative}' is missing from {root()}; reinstall smsdesk.")
    return target


def read_text(relative: str) -> str:
    """The text of ``resources/<relative>`` (UTF-8)."""
    return path(relative).read_text(encoding="utf-8")
