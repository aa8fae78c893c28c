"""Run the synthlake pipeline. See ``python orchestrator.py --help`` and README.md."""

import sys

from synthlake.cli import main

if __name__ == "__main__":
    sys.exit(main())
