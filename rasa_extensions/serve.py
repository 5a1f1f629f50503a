"""`rasa run` with the HTTP API on, its token taken from the environment instead of the command line.

Rasa 3.6 reads the API's token only from `--auth-token`, and a process's command line is readable by
every user of the machine (`ps`). The Procfile starts this module instead, with every other argument
of `rasa run`; the token (RASA_API_TOKEN, checked by settings.py) is added to the arguments inside this
process, after the command line the kernel shows was fixed.

    python -m rasa_extensions.serve --model models/xiangxin.tar.gz --endpoints endpoints.yml …
"""
from __future__ import annotations

import sys
from typing import List

from settings import load_settings


def rasa_arguments(arguments: List[str], token: str) -> List[str]:
    """The argv of `rasa run` for these arguments, with the API enabled and guarded by `token`."""
    if not token:
        raise SystemExit("RASA_API_TOKEN is not set: Rasa's HTTP API would be open to anyone who reaches it "
                         "(make run generates one into var/local.env).")
    # One argument, `--auth-token=…`: a generated token may begin with "-" (token_urlsafe's alphabet has it), and
    # argparse takes a separate "-…" for an option and stops Rasa with "expected one argument".
    return ["rasa", "run", *arguments, "--enable-api", f"--auth-token={token}"]


def main() -> None:
    """Run Rasa's own command line with the token added to its arguments."""
    from rasa.__main__ import main as rasa_main

    sys.argv = rasa_arguments(sys.argv[1:], load_settings().rasa_api_token)
    rasa_main()


if __name__ == "__main__":
    main()
