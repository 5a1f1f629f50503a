"""The action server starts without importing what only the command line needs (start-up time, issue 16)."""
from __future__ import annotations

import json
import subprocess
import sys

from settings import PROJECT_ROOT

# Alembic (with its dialect modules) is for `python -m knowledge migrate`; importing it cost the action
# server seconds of its start on this machine.
NOT_AT_START = ("alembic", "tensorflow", "rasa.core", "matplotlib")


def test_the_action_package_imports_none_of_the_heavy_modules() -> None:
    probe = ("import json, pkgutil, importlib, sys, actions\n"
             "for info in pkgutil.iter_modules(actions.__path__):\n"
             "    importlib.import_module('actions.' + info.name)\n"
             "print(json.dumps(sorted(sys.modules)))")
    done = subprocess.run([sys.executable, "-c", probe], cwd=PROJECT_ROOT, capture_output=True, text=True,
                          check=True)
    loaded = json.loads(done.stdout.strip().splitlines()[-1])
    assert [name for name in loaded if name.split(".")[0] in NOT_AT_START or name in NOT_AT_START
            or any(name.startswith(heavy + ".") for heavy in NOT_AT_START)] == []
