"""`python -m edepot`: the same as the `edepot` command."""
from __future__ import annotations

import sys

from edepot.cli import main

sys.exit(main())
