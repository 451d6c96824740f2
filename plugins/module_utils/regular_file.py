# -*- coding: utf-8 -*-
# Copyright (c) virtaudit.auvirt contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Reading small files that a user names (configuration files, checkpoints) safely.

A path option may name a FIFO (opening it blocks until a writer comes), a
device (``/dev/zero`` never ends) or a huge file.  ``read_regular`` opens
without blocking, checks on the open handle that it is a regular file, and
reads at most ``limit`` bytes, so none of these can hang the module or
exhaust memory.  ``read_private`` also makes sure that a file the
collection wrote for itself (a checkpoint, the event state) still belongs
to this user and that nobody else could have written into it.
``replace_atomically`` writes a file as a whole or not at all.  ``owners``
says whose a path is (and whose what a symbolic link there points to).

Standard library only, Python 3.6+.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import errno
import os
import stat
import tempfile


class NotRegularFile(Exception):
    """The path exists but is not a regular file, or is larger than allowed; ``str()`` says which."""


class Untrusted(Exception):
    """A private file that cannot be read or trusted; ``str()`` says which and why."""


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


def read_private(path, limit, what, error=Untrusted):
    """The bytes of the private file ``path``, or None when it does not exist.

    Raises ``error`` (an exception class) - its text begins with ``what``
    and the path - when the path is not a regular file of at most ``limit``
    bytes, cannot be read, belongs to another user or may be written by
    group or others.
    """
    try:
        data, info = read_regular(path, limit)
    except NotRegularFile as exc:
        raise error("%s %s" % (what, exc))
    except (IOError, OSError) as exc:
        if exc.errno == errno.ENOENT:
            return None
        raise error("cannot read %s %s: %s" % (what, path, exc.strerror or exc))
    if info.st_uid != os.geteuid():
        raise error("%s %s belongs to uid %d, not to this user (uid %d): it is not trusted"
                    % (what, path, info.st_uid, os.geteuid()))
    if info.st_mode & (stat.S_IWGRP | stat.S_IWOTH):
        raise error("%s %s may be written by other users (mode %04o): it is not trusted"
                    % (what, path, stat.S_IMODE(info.st_mode)))
    return data


def replace_atomically(path, data, mode=None, durable=False):
    """Write the bytes ``data`` to ``path`` as a whole or not at all: a temporary file in the same directory (its name
    begins with a dot and ends in ``.tmp``, so collectors that read ``*.prom`` or ``*.json`` skip it), renamed into
    place.  ``mode``: the file's mode (default: mkstemp's 0600).  ``durable``: on disk (fsync) before the rename, for
    state a crash must not leave empty.  A ``path`` that is a FIFO, a device, a directory or a socket is not replaced
    (renaming over it would put a file where ``/dev/null`` was).  OSError/IOError on failure (``strerror`` says why);
    no temporary file stays."""
    try:
        existing = os.lstat(path).st_mode
    except OSError:
        existing = None
    if existing is not None and not (stat.S_ISREG(existing) or stat.S_ISLNK(existing)):
        kind = _kind(existing)
        raise OSError(errno.EEXIST, "%s is %s: not written"
                      % (path, kind if kind == "not a regular file" else kind + ", not a regular file"))
    directory = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(prefix="." + os.path.basename(path) + ".", suffix=".tmp", dir=directory)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            if durable:
                handle.flush()
                os.fsync(handle.fileno())
        if mode is not None:
            os.chmod(tmp, mode)
        os.rename(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


def owner_name(uid):
    """The account name of ``uid``, or None."""
    try:
        import pwd
        return pwd.getpwuid(uid).pw_name
    except (ImportError, KeyError, OverflowError, ValueError):
        return None


def owners(path):
    """``(uid, target_uid, is_link)`` of ``path``, or None when nothing is there: the owner of the path itself (a
    symbolic link is not followed) and of what it points to - the same uid for anything but a link, and for a link
    that points nowhere."""
    try:
        info = os.lstat(path)
    except OSError:
        return None
    if not stat.S_ISLNK(info.st_mode):
        return info.st_uid, info.st_uid, False
    try:
        return info.st_uid, os.stat(path).st_uid, True
    except OSError:
        return info.st_uid, info.st_uid, True
