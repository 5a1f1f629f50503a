"""python -m bot: start the gateway."""
from bot.app import main

main()
