"""`rasa …` with our fixes of Rasa installed first: `python -m rasa_extensions.cli test core …`.

The Rasa server gets them from the gateway channel (credentials.yml); Rasa's other commands load no channel,
so `make stories` runs them through this launcher: its model loads without Rasa's throwaway training step
(rasa_extensions/fast_model_load.py), about a minute less here, with the same predictions.
"""
from __future__ import annotations

import sys


def install_serving_fixes() -> None:
    """The fixes a Rasa server uses: model load, action-response check, event lookup, kept-alive action calls,
    graphs run without dask's scheduler (the server never trains)."""
    from rasa_extensions import (
        fast_action_validation,
        fast_event_types,
        fast_graph_runner,
        fast_model_load,
        shared_http_session,
    )

    fast_action_validation.install()
    fast_model_load.install()
    fast_event_types.install()
    shared_http_session.install()
    fast_graph_runner.install()


def install_fixes() -> None:
    """Install every fix of Rasa in rasa_extensions in this process (training's too)."""
    from rasa_extensions import fast_training

    install_serving_fixes()
    fast_training.install()


def main() -> None:
    """Rasa's own command line, after the fixes."""
    install_fixes()
    from rasa.__main__ import main as rasa_main

    sys.argv = ["rasa", *sys.argv[1:]]
    rasa_main()


if __name__ == "__main__":
    main()
