"""``python -m cube`` runs the ``cube`` command."""

import sys

from cube._cli import main

sys.exit(main())
