"""``python -m regdsl``."""

import sys

from regdsl.cli.main import main

sys.exit(main())
