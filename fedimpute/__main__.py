"""``python -m fedimpute`` runs the command line."""

import sys

from fedimpute.cli import main

sys.exit(main())
