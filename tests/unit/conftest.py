"""Make the collection importable as ``ansible_collections.virtaudit.auvirt``
(see tests/collection_path.py)."""
import os
import sys
import time

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, "tests"))

from collection_path import ensure_importable  # noqa: E402  pylint: disable=wrong-import-position

ensure_importable("virtaudit-pytest-")

FIXTURES = os.path.join(ROOT, "tests", "fixtures")


@pytest.fixture
def tz():
    """Set the process's local time zone (what the modules read dates and keywords in) with ``tz(name)``;
    restored afterwards.  A zone that is not installed skips the test, saying so."""
    saved = os.environ.get('TZ')

    def set_tz(name):
        if ',' not in name and '/' in name and not os.path.exists(os.path.join('/usr/share/zoneinfo', name)):
            pytest.skip('zone %s not installed' % name)
        os.environ['TZ'] = name
        time.tzset()

    yield set_tz
    if saved is None:
        os.environ.pop('TZ', None)
    else:
        os.environ['TZ'] = saved
    time.tzset()
