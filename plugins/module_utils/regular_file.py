# -*- coding: utf-8 -*-
# Copyright (c) virtaudit.auvirt contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Reading small files that a user names (configuration files, checkpoints) safely.

A path option may name a FIFO (opening it blocks until a writer comes), a
device (``/dev/zero`` never ends) or a huge file.  ``read_regular`` opens
without blocking, checks on the open handle that it is a regular file, and
reads at most ``limit`` bytes, so none of these can hang the module or
exhaust memory.

Standard library only, Python 3.6+.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import errno
import os
import stat


class NotRegularFile(Exception):
    """The path exists but is not a regular file, or is larger than allowed; ``str()`` says which."""


def _kind(mode):
    if stat.S_ISDIR(mode):
        return "a directory"
    if stat.S_ISFIFO(mode):
        return "a FIFO"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    if stat.S_ISSOCK(mode):
        return "a socket"
    return "not a regular file"


def open_regular(path):
    """``(fd, os.fstat result)`` of ``path`` opened read-only without blocking.

    Raises NotRegularFile for anything but a regular file (checked on the
    open descriptor, so a file swapped in between cannot slip through) and
    OSError/IOError when it cannot be opened (ENOENT, EACCES, ...).
    """
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0) | getattr(os, "O_CLOEXEC", 0)
    try:
        fd = os.open(path, flags)
    except OSError as exc:
        if exc.errno == errno.EISDIR:
            raise NotRegularFile("%s is a directory, not a regular file" % path)
        try:
            mode = os.stat(path).st_mode
        except OSError:
            raise exc
        if not stat.S_ISREG(mode):  # a socket cannot be opened (ENXIO)
            raise NotRegularFile("%s is %s, not a regular file" % (path, _kind(mode)))
        raise
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise NotRegularFile("%s is %s, not a regular file" % (path, _kind(info.st_mode)))
    except Exception:
        os.close(fd)
        raise
    return fd, info


def read_regular(path, limit):
    """The bytes of the regular file ``path``; NotRegularFile when it is larger than ``limit`` bytes.

    Returns ``(data, os.stat_result)``; the stat result is of the open handle.
    """
    fd, info = open_regular(path)
    try:
        chunks = []
        size = 0
        while True:
            chunk = os.read(fd, min(1 << 20, limit + 1 - size))
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
            if size > limit:
                raise NotRegularFile("%s is larger than %d bytes, more than such a file can be" % (path, limit))
        return b"".join(chunks), info
    finally:
        os.close(fd)
