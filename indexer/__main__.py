"""``python -m indexer``: the same as the ``indexer`` console script."""

import sys

from indexer.cli.main import main

sys.exit(main())
