"""Compile every locale/*/LC_MESSAGES/*.po into its .mo with polib.

The build does this (make run, make test, the Docker image), so compiled catalogs are never
committed and never stale; polib means no system gettext is needed to run the portal.
"""

import pathlib
import sys

import polib

ROOT = pathlib.Path(__file__).resolve().parent.parent


def main() -> int:
    catalogs = sorted((ROOT / "locale").glob("*/LC_MESSAGES/*.po"))
    for po_path in catalogs:
        catalog = polib.pofile(str(po_path))
        catalog.save_as_mofile(str(po_path.with_suffix(".mo")))
        print(f"compiled {po_path.relative_to(ROOT)}: {catalog.percent_translated()}% translated")
    return 0 if catalogs else 1


if __name__ == "__main__":
    sys.exit(main())
