"""python -m console: start the console."""
from console.app import main

main()
