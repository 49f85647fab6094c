"""The data folder: ``--home DIR`` > ``SMSDESK_HOME`` > the platform's user data folder."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from smsdesk.config.paths import ENV_HOME, resolve


@pytest.fixture
def platform_data(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """No SMSDESK_HOME, and the platform's data folder (XDG_DATA_HOME on Linux) in tmp_path."""
    if not sys.platform.startswith("linux"):
        pytest.skip("the platform default is checked through XDG_DATA_HOME (Linux)")
    monkeypatch.delenv(ENV_HOME, raising=False)
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg-data"))
    return tmp_path / "xdg-data"


def test_without_either_the_platform_data_folder_is_used(platform_data: Path) -> None:
    assert resolve().home == platform_data / "smsdesk"
    assert resolve(None).home == resolve("").home == platform_data / "smsdesk"


def test_smsdesk_home_overrides_the_platform_folder(
    platform_data: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(ENV_HOME, str(tmp_path / "portable"))
    assert resolve().home == (tmp_path / "portable").resolve()


def test_home_argument_overrides_smsdesk_home(
    platform_data: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(ENV_HOME, str(tmp_path / "portable"))
    assert resolve(str(tmp_path / "explicit")).home == (tmp_path / "explicit").resolve()
    monkeypatch.chdir(tmp_path)
    assert resolve("relative").home == (tmp_path / "relative").resolve()  # made absolute


def test_the_command_line_puts_data_where_the_precedence_says(platform_data: Path, tmp_path: Path) -> None:
    def run(*args: str, env_home: str | None) -> None:
        env = {k: v for k, v in os.environ.items() if k != ENV_HOME}
        env["PYTHON_KEYRING_BACKEND"] = "keyring.backends.fail.Keyring"
        env["XDG_DATA_HOME"] = str(platform_data)
        if env_home is not None:
            env[ENV_HOME] = env_home
        proc = subprocess.run(
            [sys.executable, "-m", "smsdesk", *args, "accounts", "list"],
            capture_output=True,
            text=True,
            env=env,
            timeout=60,
            check=False,
        )
        assert proc.returncode == 0, proc.stderr

    run("--home", str(tmp_path / "explicit"), env_home=str(tmp_path / "portable"))
    assert (tmp_path / "explicit" / "smsdesk.sqlite3").exists()
    assert not (tmp_path / "portable").exists() and not platform_data.exists()
    run(env_home=str(tmp_path / "portable"))
    assert (tmp_path / "portable" / "smsdesk.sqlite3").exists() and not platform_data.exists()
    run(env_home=None)
    assert (platform_data / "smsdesk" / "smsdesk.sqlite3").exists()
