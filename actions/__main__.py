"""python -m actions: the action server on ACTIONS_HOST:ACTIONS_PORT with our log output (the Procfile starts it).

Rather than `rasa run actions`, whose coloured log handler would print farmers' phone numbers unmasked,
and which takes its bind address only from the command line and SANIC_HOST.
"""
import os

from rasa_sdk.endpoint import run
from rasa_sdk.utils import update_sanic_log_level

from actions import worker_threads
from logs import configure_logging
from settings import load_settings


def main() -> None:
    """Serve the actions until interrupted."""
    settings = load_settings()
    configure_logging(settings)
    update_sanic_log_level()
    os.environ["SANIC_HOST"] = settings.actions_host  # the only way to tell Rasa SDK where to listen
    worker_threads.install()  # actions run on worker threads, off the server's event loop
    run("actions", port=settings.actions_port)


# Rasa SDK imports every module of the package, this one included: only `python -m actions` serves.
if __name__ == "__main__":
    main()
