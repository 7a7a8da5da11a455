"""The committed compiled statements are what the builders compile now.

``layers/shared/wellapi/store/compiled/`` is a lock on the SQL the layer ships (``welldev.compiled``
says why it is committed): like ``template.yaml``, a file generated from the sources, checked
as part of what is built. Compiling all 7,432 shapes takes SQLAlchemy about 20 s, so this check
runs with the system tier, not in the edit-test loop; ``python -m welldev.compiled --check``
runs it alone.
"""

from __future__ import annotations

from welldev import compiled


def test_the_compiled_files_are_what_sqlalchemy_compiles_now():
    assert compiled.stale_files() == [], "run: .venv/bin/python -m welldev.compiled"
