"""Packaging checks that need no build: resources, hidden imports, installer inputs, version.

The frozen build itself is exercised by ``python packaging/build.py`` followed by
``python packaging/smoke_test.py`` (a few minutes; see the README's "Build and install").
"""

from __future__ import annotations

import ast
import configparser
import importlib.util
import plistlib
import re
import shutil
import struct
import subprocess
import sys
import tomllib
import xml.etree.ElementTree as ET
from pathlib import Path
from types import ModuleType

import pytest

import smsdesk
from smsdesk import resources

ROOT = Path(__file__).resolve().parent.parent
PACKAGING = ROOT / "packaging"
DESKTOP = PACKAGING / "linux" / "smsdesk.desktop"
METAINFO = PACKAGING / "linux" / "io.smsdesk.smsdesk.metainfo.xml"
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))


def _load(name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(f"_packaging_{name}", PACKAGING / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


hidden = _load("hidden_imports")


@pytest.fixture(autouse=True)
def _fresh_resolver(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.delenv(resources.ENV_RESOURCES, raising=False)
    resources.root.cache_clear()
    yield
    resources.root.cache_clear()


# ---- resources ------------------------------------------------------------------------------
def test_resolver_finds_the_checkouts_resources() -> None:
    assert resources.root() == ROOT / "resources"
    assert resources.path("icons/smsdesk.svg").is_file()
    for scheme in ("light", "dark"):
        assert "QListWidget#nav" in resources.read_text(f"styles/{scheme}.qss")


def test_a_missing_resource_is_reported_by_name() -> None:
    with pytest.raises(resources.ResourceNotFound, match="styles/nope.qss"):
        resources.path("styles/nope.qss")


def test_frozen_bundle_wins_over_the_checkout(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    bundled = tmp_path / "resources"
    shutil.copytree(ROOT / "resources", bundled)
    monkeypatch.setattr(sys, "_MEIPASS", str(tmp_path), raising=False)
    assert resources.root() == bundled


def test_the_wheel_ships_every_resource_folder() -> None:
    data_files = PYPROJECT["tool"]["setuptools"]["data-files"]
    folders = sorted({p.parent for p in (ROOT / "resources").rglob("*") if p.is_file()})
    for folder in folders:
        rel = folder.relative_to(ROOT).as_posix()
        key = f"share/smsdesk/{rel}"
        assert key in data_files and f"{rel}/*" in data_files[key], f"pyproject data-files lacks {key}"
    assert resources.WHEEL_DATA_DIR.as_posix() == "share/smsdesk/resources"


def test_svg_icon_is_square_and_valid_xml() -> None:
    svg = ET.parse(resources.path("icons/smsdesk.svg")).getroot()
    assert svg.tag.endswith("svg") and svg.get("viewBox") == "0 0 256 256"


# ---- PyInstaller inputs ---------------------------------------------------------------------
@pytest.mark.parametrize("package", ["providers", "sandbox", "storage.records"])
def test_hidden_imports_cover_every_module_loaded_by_name(package: str) -> None:
    modules = hidden.package_modules(ROOT / "smsdesk" / package.replace(".", "/"), f"smsdesk.{package}")
    missing = sorted(set(modules) - set(hidden.hidden_imports()))
    assert not missing, f"add these to packaging/hidden_imports.py: {missing}"


def test_hidden_imports_name_the_keyring_backends_for_every_platform() -> None:
    names = set(hidden.hidden_imports("linux")) | set(hidden.hidden_imports("win32"))
    for backend in ("SecretService", "kwallet", "macOS", "Windows", "fail", "chainer"):
        assert f"keyring.backends.{backend}" in names
    assert {"secretstorage", "jeepney", "qasync", "aiohttp", "httpx_aiohttp", "openpyxl"} <= names


def test_hidden_imports_exist_here() -> None:
    """A typo in the list would only show up as a PyInstaller warning."""
    for name in hidden.hidden_imports("linux"):
        if name.startswith("keyring.backends.") and name.rsplit(".", 1)[-1] in {"macOS", "api", "Windows"}:
            continue  # these import platform libraries when loaded; PyInstaller only reads them
        assert importlib.util.find_spec(name) is not None, name


def test_smsdesk_never_imports_what_the_build_leaves_out() -> None:
    excluded = hidden.EXCLUDES
    bad = []
    for path in (ROOT / "smsdesk").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names: list[str] = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                names = [node.module] + [f"{node.module}.{a.name}" for a in node.names]
            bad += [f"{path.name}: {n}" for n in names if any(n == e or n.startswith(e + ".") for e in excluded)]
    assert not bad, f"smsdesk imports modules the frozen build excludes: {bad}"


def test_spec_builds_both_executables_named_like_the_entry_points() -> None:
    spec = (PACKAGING / "smsdesk.spec").read_text(encoding="utf-8")
    compile(spec, "smsdesk.spec", "exec")  # syntax only; PyInstaller runs it
    names = set(re.findall(r'EXE\([^)]*name="([^"]+)"', spec))
    assert names == {"smsdesk", "smsdesk-gui"}
    assert set(PYPROJECT["project"]["scripts"]) == {"smsdesk"}
    assert set(PYPROJECT["project"]["gui-scripts"]) == {"smsdesk-gui"}
    assert "hidden_imports" in spec and '"resources"' in spec


def test_launcher_picks_the_gui_by_executable_name() -> None:
    launcher = _load("launcher")
    assert launcher._wants_gui("/opt/smsdesk/smsdesk-gui")
    assert launcher._wants_gui(r"C:\Program Files\smsdesk\smsdesk-gui.exe")
    assert not launcher._wants_gui("/opt/smsdesk/smsdesk")


def test_generated_ico_and_icns_are_well_formed() -> None:
    build = _load("build")
    fake = {size: b"\x89PNG" + bytes([size % 256]) * 7 for size in build.PNG_SIZES}
    ico = build.ico_bytes(fake)
    reserved, kind, count = struct.unpack_from("<HHH", ico)
    assert (reserved, kind, count) == (0, 1, len(build.ICO_SIZES))
    width, _, _, _, _, _, length, offset = struct.unpack_from("<BBBBHHII", ico, 6 + 16 * (count - 1))
    assert width == 0 and ico[offset : offset + length] == fake[256]  # 0 means 256
    icns = build.icns_bytes(fake)
    assert icns[:4] == b"icns" and struct.unpack(">I", icns[4:8])[0] == len(icns)


# ---- Linux, Windows and macOS installer inputs ----------------------------------------------
def test_desktop_entry_is_well_formed() -> None:
    parser = configparser.ConfigParser(interpolation=None)
    parser.optionxform = str  # type: ignore[assignment,method-assign]  # keys are case-sensitive
    parser.read(DESKTOP, encoding="utf-8")
    entry = parser["Desktop Entry"]
    assert entry["Type"] == "Application" and entry["Name"] == "smsdesk"
    assert entry["Exec"].split()[0] == "smsdesk-gui" and entry["Terminal"] == "false"
    assert entry["Icon"] == "smsdesk" and entry["Categories"].endswith(";")
    validator = shutil.which("desktop-file-validate")
    if validator:
        result = subprocess.run([validator, str(DESKTOP)], capture_output=True, text=True)
        assert "error" not in result.stdout + result.stderr, result.stdout


def test_metainfo_is_valid_appstream() -> None:
    root = ET.parse(METAINFO).getroot()
    assert root.tag == "component" and root.get("type") == "desktop-application"
    assert root.findtext("id") == "io.smsdesk.smsdesk"
    assert root.findtext("launchable") == DESKTOP.name
    assert root.findtext("metadata_license") and root.findtext("project_license") == "MIT"
    assert root.find("description/p") is not None
    validator = shutil.which("appstreamcli")
    if validator:
        result = subprocess.run([validator, "validate", "--no-net", str(METAINFO)], capture_output=True, text=True)
        assert result.returncode == 0, result.stdout + result.stderr


def test_macos_plist_and_windows_script_take_the_version_from_the_build() -> None:
    info = plistlib.loads((PACKAGING / "macos" / "Info.plist").read_bytes())
    assert info["CFBundleIdentifier"] == ET.parse(METAINFO).getroot().findtext("id")
    assert info["NSHighResolutionCapable"] is True
    iss = (PACKAGING / "windows" / "smsdesk.iss").read_text(encoding="utf-8")
    assert "AppVersion={#AppVersion}" in iss and "smsdesk-gui.exe" in iss


# ---- one version ----------------------------------------------------------------------------
def test_version_is_written_in_one_place_and_read_everywhere() -> None:
    assert PYPROJECT["project"]["dynamic"] == ["version"]
    assert PYPROJECT["tool"]["setuptools"]["dynamic"]["version"] == {"attr": "smsdesk.__version__"}
    assert hidden.read_version(ROOT) == smsdesk.__version__
    newest = ET.parse(METAINFO).getroot().find("releases/release")
    assert newest is not None and newest.get("version") == smsdesk.__version__, (
        "add a <release> for the new version at the top of the metainfo file"
    )
