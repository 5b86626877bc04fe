"""`python -m dakota_interp …` runs the command line (see dakota_interp.cli)."""

import sys

from dakota_interp.cli import main

sys.exit(main())
