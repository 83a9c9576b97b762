"""``python -m unafraid``: the same as the ``unafraid`` command."""

import sys

from .cli import main

sys.exit(main())
