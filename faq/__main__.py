"""`python -m faq`."""

import sys

from faq.cli import main

sys.exit(main())
