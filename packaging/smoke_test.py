"""Start the frozen build and check it works as a person would use it: ``python packaging/smoke_test.py``.

Run after ``python packaging/build.py``. Each check uses a fresh, empty ``--home`` (first start
creates the Sandbox account), the offscreen Qt platform, and a working directory and
environment that cannot lend the frozen app anything from the checkout:

1. the bundle holds the resources, and (when PyInstaller is importable) its Python archive
   holds every module ``packaging/hidden_imports.py`` names (keyring backends, adapters ...);
2. ``smsdesk --version`` reports the version of ``smsdesk/__init__.py``;
3. ``smsdesk --home TMP send --account Sandbox --to 07911123456 --text hi --wait`` exits 0 and
   prints ``Delivered`` (the frozen CLI runs the in-process sandbox, receiver and dispatcher);
4. ``smsdesk-gui --home TMP --quit-after 3`` opens the window offscreen and exits 0 without
   a traceback or a warning.

Exit status 0 when every check passed; the failing command's output otherwise.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))
import hidden_imports  # noqa: E402 - packaging/hidden_imports.py

EXE = ".exe" if sys.platform == "win32" else ""
SMOKE_NUMBER = "07911123456"


class SmokeFailure(Exception):
    pass


def app_dir(dist: Path) -> Path:
    """The folder holding both executables (inside the .app on macOS)."""
    mac = dist / "smsdesk.app" / "Contents" / "MacOS"
    return mac if mac.is_dir() else dist / "smsdesk"


def clean_env() -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in {"SMSDESK_HOME", "SMSDESK_RESOURCES", "PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV"}
    }
    env["QT_QPA_PLATFORM"] = "offscreen"
    return env


def run(cmd: list[str], cwd: Path, timeout: float) -> subprocess.CompletedProcess[str]:
    started = time.monotonic()
    try:
        proc = subprocess.run(cmd, cwd=cwd, env=clean_env(), capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired as exc:
        raise SmokeFailure(f"{' '.join(cmd)} did not finish within {timeout:.0f} s") from exc
    print(
        f"   $ {' '.join(Path(c).name if i == 0 else c for i, c in enumerate(cmd))}"
        f"  -> exit {proc.returncode} in {time.monotonic() - started:.1f} s"
    )
    return proc


def explain(proc: subprocess.CompletedProcess[str], why: str) -> SmokeFailure:
    return SmokeFailure(f"{why}\n--- stdout ---\n{proc.stdout[-3000:]}\n--- stderr ---\n{proc.stderr[-3000:]}")


def check_bundle_contents(folder: Path) -> None:
    internal = folder / "_internal"
    base = internal if internal.is_dir() else folder.parent / "Resources"
    svg = base / "resources" / "icons" / "smsdesk.svg"
    if not svg.is_file():
        raise SmokeFailure(f"resources missing from the bundle (no {svg})")
    for qss in ("light.qss", "dark.qss"):
        if not (base / "resources" / "styles" / qss).is_file():
            raise SmokeFailure(f"theme {qss} missing from the bundle")
    try:
        from PyInstaller.archive.readers import CArchiveReader
    except ImportError:
        print("   (PyInstaller not importable here: module list not checked)")
        return
    archive = CArchiveReader(str(folder / f"smsdesk{EXE}"))
    pyz_name = next(name for name in archive.toc if name.endswith(".pyz"))
    archived = set(archive.open_embedded_archive(pyz_name).toc)
    # The spec keeps modules as .pyc files beside the executables (noarchive); a module counts
    # as bundled in either place.
    missing = [m for m in hidden_imports.hidden_imports() if m not in archived and not _pyc_in(base, m)]
    if missing:
        raise SmokeFailure(f"frozen app lacks modules: {', '.join(missing)}")
    files = sum(1 for _ in base.rglob("*.pyc"))
    print(
        f"   bundle holds resources and all {len(hidden_imports.hidden_imports())} named modules"
        f" ({files} .pyc files, {len(archived)} modules in {pyz_name})"
    )


def _pyc_in(base: Path, module: str) -> bool:
    """Whether ``module`` is in the bundle as a compiled file (``a/b.pyc`` or ``a/b/__init__.pyc``)."""
    path = base.joinpath(*module.split("."))
    return path.with_suffix(".pyc").is_file() or (path / "__init__.pyc").is_file()


def smoke(dist: Path, timeout: float) -> None:
    folder = app_dir(dist)
    cli, gui = folder / f"smsdesk{EXE}", folder / f"smsdesk-gui{EXE}"
    for exe in (cli, gui):
        if not exe.is_file():
            raise SmokeFailure(f"{exe} not found: run python packaging/build.py first")
    print(f"smoke test of {folder}")
    check_bundle_contents(folder)
    with tempfile.TemporaryDirectory(prefix="smsdesk-smoke-") as tmp:
        work = Path(tmp)
        want = hidden_imports.read_version(ROOT)
        proc = run([str(cli), "--version"], work, timeout)
        if proc.returncode != 0 or want not in proc.stdout:
            raise explain(proc, f"--version should print {want}")

        home = work / "cli-home"
        proc = run(
            [
                str(cli),
                "--home",
                str(home),
                "send",
                "--account",
                "Sandbox",
                "--to",
                SMOKE_NUMBER,
                "--text",
                "hi",
                "--wait",
            ],
            work,
            timeout,
        )
        if proc.returncode != 0 or "Delivered" not in proc.stdout:
            raise explain(proc, "send --wait through the sandbox should exit 0 and print Delivered")

        home = work / "gui-home"
        proc = run([str(gui), "--home", str(home), "--quit-after", "3"], work, timeout)
        if proc.returncode != 0:
            raise explain(proc, "smsdesk-gui --quit-after 3 should exit 0")
        bad = [
            line
            for line in proc.stderr.splitlines()
            if " WARNING " in line or "Traceback" in line or " ERROR " in line or "CRITICAL" in line
        ]
        if bad:
            raise explain(proc, "smsdesk-gui logged problems:\n" + "\n".join(bad[:10]))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Smoke-test the frozen smsdesk build.")
    parser.add_argument("--dist", type=Path, default=ROOT / "dist", help="PyInstaller's dist folder")
    parser.add_argument("--timeout", type=float, default=120.0, help="seconds per command")
    args = parser.parse_args(argv)
    started = time.monotonic()
    try:
        smoke(args.dist, args.timeout)
    except SmokeFailure as exc:
        print(f"\nSMOKE TEST FAILED: {exc}", file=sys.stderr)
        return 1
    print(f"smoke test passed in {time.monotonic() - started:.1f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
