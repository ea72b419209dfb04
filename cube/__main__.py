"""``python -m cube`` runs the ``cube`` command."""

import sys

from cube.cli import main

sys.exit(main())
