"""Build smsdesk for this platform: ``python packaging/build.py``. The one packaging entry point.

Steps (each prints what it did and how long it took):

1. make sure PyInstaller is importable (installs the ``package`` extra's requirement if not);
2. render ``resources/icons/smsdesk.svg`` with Qt's QSvgRenderer into ``build/icons``:
   PNG sizes, a multi-size ``smsdesk.ico`` and ``smsdesk.icns`` (PNG-compressed entries,
   written here byte by byte so no extra tool is needed);
3. run PyInstaller on ``packaging/smsdesk.spec`` -> ``dist/smsdesk/`` (``dist/smsdesk.app`` on
   macOS), one folder holding ``smsdesk`` (CLI) and ``smsdesk-gui`` (window);
4. the platform's installer where its tool is present: Linux: the ``.desktop`` file, AppStream
   metainfo, hicolor icons and ``install-desktop-entry.sh`` go into the folder, and the folder
   is packed as ``dist/smsdesk-<version>-linux-<arch>.tar.gz``; Windows: Inno Setup's ``iscc``
   -> ``dist/smsdesk-<version>-setup.exe``; macOS: ``hdiutil`` -> ``dist/smsdesk-<version>.dmg``.

Options: ``--icons-only``, ``--no-installer``, ``--clean`` (PyInstaller's cache too).
Then run ``python packaging/smoke_test.py`` to start the frozen binaries.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import platform
import shutil
import struct
import subprocess
import sys
import tarfile
import time
import tomllib
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))
import hidden_imports  # noqa: E402 - packaging/hidden_imports.py (version reader)

BUILD = ROOT / "build"
DIST = ROOT / "dist"
ICON_SRC = ROOT / "resources" / "icons" / "smsdesk.svg"
ICON_DIR = BUILD / "icons"
PNG_SIZES = (16, 24, 32, 48, 64, 128, 256, 512, 1024)
ICO_SIZES = (16, 24, 32, 48, 64, 128, 256)
# ICNS element types holding PNG data, by pixel size (the @2x types reuse the bigger images).
ICNS_TYPES = (
    ("icp4", 16),
    ("icp5", 32),
    ("icp6", 64),
    ("ic07", 128),
    ("ic08", 256),
    ("ic09", 512),
    ("ic10", 1024),
    ("ic11", 32),
    ("ic12", 64),
    ("ic13", 256),
    ("ic14", 512),
)
HICOLOR_SIZES = (16, 24, 32, 48, 64, 128, 256, 512)


def step(title: str) -> float:
    print(f"\n== {title}", flush=True)
    return time.monotonic()


def done(started: float, what: str) -> None:
    print(f"   {what} ({time.monotonic() - started:.1f} s)", flush=True)


# ---- 1. PyInstaller -------------------------------------------------------------------------
def ensure_pyinstaller() -> None:
    if importlib.util.find_spec("PyInstaller") is not None:
        return
    extras = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    requirement = extras["project"]["optional-dependencies"]["package"]
    print(f"   installing {', '.join(requirement)} (the 'package' extra)", flush=True)
    subprocess.run([sys.executable, "-m", "pip", "install", *requirement], check=True)


# ---- 2. icons -------------------------------------------------------------------------------
def render_pngs(svg: Path, out: Path, sizes: tuple[int, ...] = PNG_SIZES) -> dict[int, bytes]:
    """Render ``svg`` at each size with QSvgRenderer; write ``smsdesk-<n>.png``; return the bytes."""
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtCore import QBuffer, QByteArray, QIODevice, Qt
    from PySide6.QtGui import QGuiApplication, QImage, QPainter
    from PySide6.QtSvg import QSvgRenderer

    _app = QGuiApplication.instance() or QGuiApplication([])  # QPainter needs one
    renderer = QSvgRenderer(str(svg))
    if not renderer.isValid():
        raise SystemExit(f"cannot render {svg}: not a valid SVG")
    out.mkdir(parents=True, exist_ok=True)
    pngs: dict[int, bytes] = {}
    for size in sizes:
        image = QImage(size, size, QImage.Format.Format_ARGB32_Premultiplied)
        image.fill(Qt.GlobalColor.transparent)
        painter = QPainter(image)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        renderer.render(painter)
        painter.end()
        data = QByteArray()
        buffer = QBuffer(data)
        buffer.open(QIODevice.OpenModeFlag.WriteOnly)
        image.save(buffer, "PNG")
        buffer.close()
        pngs[size] = bytes(data.data())
        (out / f"smsdesk-{size}.png").write_bytes(pngs[size])
    return pngs


def ico_bytes(pngs: dict[int, bytes], sizes: tuple[int, ...] = ICO_SIZES) -> bytes:
    """A Windows ``.ico`` holding PNG-compressed images (supported since Windows Vista)."""
    header = struct.pack("<HHH", 0, 1, len(sizes))
    entries, blobs = b"", b""
    offset = 6 + 16 * len(sizes)
    for size in sizes:
        blob = pngs[size]
        dim = 0 if size >= 256 else size  # 0 means 256 in the directory entry
        entries += struct.pack("<BBBBHHII", dim, dim, 0, 0, 1, 32, len(blob), offset)
        blobs += blob
        offset += len(blob)
    return header + entries + blobs


def icns_bytes(pngs: dict[int, bytes]) -> bytes:
    """A macOS ``.icns`` holding PNG elements (the format since OS X 10.7)."""
    body = b"".join(
        kind.encode("ascii") + struct.pack(">I", 8 + len(pngs[size])) + pngs[size] for kind, size in ICNS_TYPES
    )
    return b"icns" + struct.pack(">I", 8 + len(body)) + body


def build_icons() -> Path:
    started = step(f"icons from {ICON_SRC.relative_to(ROOT)}")
    pngs = render_pngs(ICON_SRC, ICON_DIR)
    (ICON_DIR / "smsdesk.ico").write_bytes(ico_bytes(pngs))
    (ICON_DIR / "smsdesk.icns").write_bytes(icns_bytes(pngs))
    shutil.copy2(ICON_SRC, ICON_DIR / "smsdesk.svg")
    done(started, f"{len(pngs)} PNG sizes, smsdesk.ico, smsdesk.icns in {ICON_DIR}")
    return ICON_DIR


# ---- 3. PyInstaller -------------------------------------------------------------------------
def run_pyinstaller(clean: bool) -> Path:
    started = step("PyInstaller (one folder, two executables)")
    ensure_pyinstaller()
    cmd = [
        sys.executable,
        "-m",
        "PyInstaller",
        "--noconfirm",
        "--log-level",
        "WARN",
        "--distpath",
        str(DIST),
        "--workpath",
        str(BUILD / "pyinstaller"),
        str(HERE / "smsdesk.spec"),
    ]
    if clean:
        cmd.insert(3, "--clean")
    env = dict(os.environ, SMSDESK_ICON_DIR=str(ICON_DIR))
    subprocess.run(cmd, check=True, cwd=ROOT, env=env)
    result = DIST / ("smsdesk.app" if sys.platform == "darwin" else "smsdesk")
    done(started, f"built {result}")
    return result


# ---- 4. installers --------------------------------------------------------------------------
def folder_size(path: Path) -> int:
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file() and not f.is_symlink())


def linux_package(folder: Path, version: str) -> Path:
    started = step("Linux: desktop entry, metainfo, icons, tar.gz")
    share = folder / "share"
    (share / "applications").mkdir(parents=True, exist_ok=True)
    (share / "metainfo").mkdir(parents=True, exist_ok=True)
    shutil.copy2(HERE / "linux" / "smsdesk.desktop", share / "applications" / "smsdesk.desktop")
    shutil.copy2(HERE / "linux" / "io.smsdesk.smsdesk.metainfo.xml", share / "metainfo")
    for size in HICOLOR_SIZES:
        target = share / "icons" / "hicolor" / f"{size}x{size}" / "apps"
        target.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ICON_DIR / f"smsdesk-{size}.png", target / "smsdesk.png")
    scalable = share / "icons" / "hicolor" / "scalable" / "apps"
    scalable.mkdir(parents=True, exist_ok=True)
    shutil.copy2(ICON_SRC, scalable / "smsdesk.svg")
    installer = folder / "install-desktop-entry.sh"
    shutil.copy2(HERE / "linux" / "install-desktop-entry.sh", installer)
    installer.chmod(0o755)
    archive = DIST / f"smsdesk-{version}-linux-{platform.machine()}.tar.gz"
    with tarfile.open(archive, "w:gz", compresslevel=6) as tar:
        tar.add(folder, arcname="smsdesk")
    done(started, f"{archive.name} ({archive.stat().st_size / 2**20:.0f} MiB)")
    return archive


def windows_installer(folder: Path, version: str) -> Path | None:
    iscc = shutil.which("iscc") or shutil.which("ISCC")
    default = Path(os.environ.get("PROGRAMFILES(X86)", r"C:\Program Files (x86)")) / "Inno Setup 6" / "ISCC.exe"
    if iscc is None and default.exists():
        iscc = str(default)
    if iscc is None:
        print("   Inno Setup (iscc) not found: skipping the installer; dist/smsdesk is the portable app")
        return None
    started = step("Windows: Inno Setup installer")
    subprocess.run(
        [
            iscc,
            f"/DAppVersion={version}",
            f"/DSourceDir={folder}",
            f"/DIconFile={ICON_DIR / 'smsdesk.ico'}",
            f"/DOutputDir={DIST}",
            str(HERE / "windows" / "smsdesk.iss"),
        ],
        check=True,
    )
    setup = DIST / f"smsdesk-{version}-setup.exe"
    done(started, f"built {setup}")
    return setup


def macos_dmg(app: Path, version: str) -> Path | None:
    if shutil.which("hdiutil") is None:
        print("   hdiutil not found: skipping the disk image")
        return None
    started = step("macOS: disk image")
    dmg = DIST / f"smsdesk-{version}.dmg"
    subprocess.run(
        ["hdiutil", "create", "-volname", "smsdesk", "-srcfolder", str(app), "-ov", "-format", "UDZO", str(dmg)],
        check=True,
    )
    done(started, f"built {dmg}")
    return dmg


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Build smsdesk's one-folder app and installer.")
    parser.add_argument("--icons-only", action="store_true", help="only generate build/icons")
    parser.add_argument("--no-installer", action="store_true", help="stop after the folder")
    parser.add_argument("--clean", action="store_true", help="clear PyInstaller's cache first")
    args = parser.parse_args(argv)
    began = time.monotonic()
    missing = [m for m in ("smsdesk", "PySide6") if importlib.util.find_spec(m) is None]
    if missing:
        parser.error(
            f"{' and '.join(missing)} not importable by {sys.executable}: run this with the "
            "Python that has smsdesk installed (e.g. .venv/bin/python, after "
            "'pip install -e .[package]')"
        )
    version = hidden_imports.read_version(ROOT)
    print(f"smsdesk {version} on {sys.platform} ({platform.machine()}), Python {platform.python_version()}")
    build_icons()
    if args.icons_only:
        return 0
    result = run_pyinstaller(args.clean)
    extra: Path | None = None
    if not args.no_installer:
        if sys.platform.startswith("linux"):
            extra = linux_package(result, version)
        elif sys.platform == "win32":
            extra = windows_installer(result, version)
        elif sys.platform == "darwin":
            extra = macos_dmg(result, version)
    size = folder_size(result) / 2**20
    print(f"\nDone in {time.monotonic() - began:.0f} s.")
    print(f"  app folder: {result} ({size:.0f} MiB)")
    if extra is not None:
        print(f"  installer:  {extra}")
    print("  smoke test: python packaging/smoke_test.py")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
