"""``python -m mleopt``: the same command line as the installed ``mleopt`` script."""
import sys

from .cli import main

if __name__ == "__main__":
    sys.exit(main())
