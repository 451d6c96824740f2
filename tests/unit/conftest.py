"""Make the collection importable as ``ansible_collections.virtaudit.auvirt``
(see tests/collection_path.py)."""
import os
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, "tests"))

from collection_path import ensure_importable  # noqa: E402  pylint: disable=wrong-import-position

ensure_importable("virtaudit-pytest-")

FIXTURES = os.path.join(ROOT, "tests", "fixtures")
