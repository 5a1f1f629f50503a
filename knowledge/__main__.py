"""python -m knowledge"""
import sys

from knowledge.cli import main

sys.exit(main())
