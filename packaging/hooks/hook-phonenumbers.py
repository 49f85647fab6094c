"""Replaces pyinstaller-hooks-contrib's phonenumbers hook (hookspath hooks take precedence).

phonenumbers imports one metadata module per region lazily, so every submodule is a hidden
import, except the geocoder and carrier databases (~45 MB) smsdesk never uses: the contrib
hook collects those too, and the spec's excludes then turn them into hundreds of warnings.
"""

import sys
from pathlib import Path

from PyInstaller.utils.hooks import collect_submodules

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
import hidden_imports as hi  # noqa: E402 - packaging/hidden_imports.py

hiddenimports = collect_submodules(
    "phonenumbers",
    filter=lambda name: not any(name == e or name.startswith(e + ".") for e in hi.EXCLUDES),
)
