"""One build step pyproject.toml cannot say: compile the gettext catalogs into the wheel.

The ``.mo`` files are generated (never committed): ``build_py`` writes one beside each
``hub/locale/<lang>/LC_MESSAGES/<domain>.po`` (and the desk's) it copies, so a plain
``pip install`` or ``pip wheel`` ships compiled catalogs. An editable install reads the source
tree, where ``make i18n`` compiles them (and hub/i18n.py reads a ``.po`` with no fresh ``.mo``).
"""

from __future__ import annotations

import io
from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from setuptools import setup
from setuptools.command.build_py import build_py


class BuildPyWithCatalogs(build_py):
    def run(self) -> None:
        super().run()
        if getattr(self, "editable_mode", False):
            return
        for po in sorted(Path("hub").glob("**/locale/*/LC_MESSAGES/*.po")):  # desk's too
            with po.open("rb") as stream:
                catalog = read_po(stream, locale=po.parts[-3], domain=po.stem)
            buffer = io.BytesIO()
            write_mo(buffer, catalog, use_fuzzy=False)
            target = Path(self.build_lib) / "pgs_hub" / po.with_suffix(".mo")
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(buffer.getvalue())


setup(cmdclass={"build_py": BuildPyWithCatalogs})
