"""``python -m welldev.bench``: what ``make bench`` runs (``--help`` for the options)."""

import sys

from welldev.bench.runner import main

sys.exit(main())
