"""Entry script for the PyInstaller bundle: a frozen executable runs its script without a
package, so the relative imports of app/__main__.py need this absolute-import shim."""

import sys

from app.__main__ import main

if __name__ == "__main__":
    sys.exit(main())
