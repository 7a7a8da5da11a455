"""``python -m welldev.bench``: what ``make bench`` runs (``--help`` for the options)."""

import sys

from welldev.bench.command_line import main

sys.exit(main())
