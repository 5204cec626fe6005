"""Reading what a sandbox (or a learner) wrote without trusting it.

Every file is opened without following links (``O_NOFOLLOW``), without blocking on a FIFO
(``O_NONBLOCK``), checked to be a regular file, and read up to a limit; folders are walked
without following links and refused when they hold anything but folders and regular files.
A hostile file therefore gets a clear error, never a read of a host file, a hang or a flood.
"""

from __future__ import annotations

import errno
import hashlib
import os
import stat
import tarfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from .limits import MIB, describe_bytes

_CHUNK = 1024 * 1024


class UnsafeFile(ValueError):
    """A file or folder that is a link, a FIFO, a device, too big or too many."""


@dataclass(frozen=True)
class TreeLimits:
    max_files: int = 10_000
    max_bytes: int = 2048 * MIB
    max_depth: int = 32


def open_regular(path: str | Path, *, dir_fd: int | None = None) -> int:
    """An fd of ``path`` if it is a regular file (not a link, FIFO, device or socket)."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC, dir_fd=dir_fd)
    except OSError as error:
        if error.errno == errno.ELOOP:
            raise UnsafeFile(f"{path} is a symbolic link; only regular files are read") from None
        raise UnsafeFile(f"{path} cannot be opened: {error.strerror}") from None
    info = os.fstat(fd)
    if not stat.S_ISREG(info.st_mode):
        os.close(fd)
        raise UnsafeFile(f"{path} is not a regular file; only regular files are read")
    return fd


def read_bounded(path: str | Path, max_bytes: int) -> bytes:
    """The bytes of a regular file, refusing one larger than ``max_bytes``."""
    fd = open_regular(path)
    with os.fdopen(fd, "rb") as handle:
        data = handle.read(max_bytes + 1)
    if len(data) > max_bytes:
        raise UnsafeFile(f"{path} is larger than {describe_bytes(max_bytes)}")
    return data


def read_text_tail(path: str | Path, max_chars: int) -> str:
    """The last ``max_chars`` characters of a regular text file (for messages)."""
    fd = open_regular(path)
    with os.fdopen(fd, "rb") as handle:
        size = os.fstat(handle.fileno()).st_size
        handle.seek(max(0, size - 4 * max_chars))
        return handle.read(4 * max_chars).decode(errors="replace")[-max_chars:]


def walk_regular(folder: str | Path, limits: TreeLimits = TreeLimits()) -> Iterator[tuple[str, int]]:
    """(relative posix path, size) of each regular file under ``folder``; UnsafeFile for anything else."""
    for relative, fd, size in _open_regular_files(folder, limits):
        os.close(fd)
        yield relative, size


def _open_regular_files(folder: str | Path, limits: TreeLimits) -> Iterator[tuple[str, int, int]]:
    """(relative posix path, open fd, size) of each regular file under ``folder``; the caller closes each fd.

    Folders are opened one component at a time from ``folder`` itself, never by path, and files
    relative to the folder holding them, all without following links: whoever can still write in
    ``folder`` (a learner's running server) and swaps a folder or a file for a link between the
    listing and the opening gets a refusal, never a read of where the link points. A file is read
    no further than its size when opened, so it cannot grow past the limits while it is copied.
    """
    top_fd = _open_folder(folder, None, str(folder))
    count, total = 0, 0
    stack: list[tuple[tuple[str, ...], int]] = [((), 0)]
    try:
        while stack:
            parts, depth = stack.pop()
            if depth > limits.max_depth:
                raise UnsafeFile(f"{'/'.join(parts)} in {folder} is nested more than {limits.max_depth} folders deep")
            current = _open_path(top_fd, parts, folder)
            try:
                with os.scandir(current) as entries:
                    names = sorted(entry.name for entry in entries)
                for name in names:
                    relative = "/".join((*parts, name))
                    try:
                        mode = os.stat(name, dir_fd=current, follow_symlinks=False).st_mode
                    except OSError as error:  # gone, or replaced, since the listing
                        raise UnsafeFile(f"{relative} in {folder} changed while it was read: {error.strerror}") from None
                    count += 1
                    if count > limits.max_files:
                        raise UnsafeFile(f"{folder} holds more than {limits.max_files} files and folders")
                    if stat.S_ISDIR(mode):
                        stack.append(((*parts, name), depth + 1))
                        continue
                    if not stat.S_ISREG(mode):
                        kind = "a symbolic link" if stat.S_ISLNK(mode) else "a FIFO" if stat.S_ISFIFO(mode) else "not a regular file"
                        raise UnsafeFile(f"{relative} in {folder} is {kind}; only folders and regular files are accepted")
                    fd = open_regular(name, dir_fd=current)
                    size = os.fstat(fd).st_size
                    total += size
                    if total > limits.max_bytes:
                        os.close(fd)
                        raise UnsafeFile(f"{folder} holds more than {describe_bytes(limits.max_bytes)}")
                    yield relative, fd, size
            finally:
                os.close(current)
    finally:
        os.close(top_fd)


_FOLDER_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC


def _open_folder(name: str | Path, dir_fd: int | None, shown: str) -> int:
    try:
        return os.open(name, _FOLDER_FLAGS, dir_fd=dir_fd)
    except OSError as error:
        if error.errno in (errno.ELOOP, errno.ENOTDIR):
            raise UnsafeFile(f"{shown} is not a folder (a link or a file)") from None
        raise UnsafeFile(f"{shown} cannot be opened: {error.strerror}") from None


def _open_path(top_fd: int, parts: tuple[str, ...], folder: str | Path) -> int:
    """An fd of ``folder/<parts>``, each component opened relative to the last without following links."""
    fd = os.dup(top_fd)
    for i, part in enumerate(parts):
        try:
            child = _open_folder(part, fd, f"{'/'.join(parts[: i + 1])} in {folder}")
        finally:
            os.close(fd)
        fd = child
    return fd


def _read_exactly(fd: int, size: int) -> Iterator[bytes]:
    """At most ``size`` bytes of ``fd`` in chunks (what a file held when it was opened); closes ``fd``."""
    with os.fdopen(fd, "rb") as reader:
        left = size
        while left > 0 and (chunk := reader.read(min(_CHUNK, left))):
            left -= len(chunk)
            yield chunk


def copy_tree(source: str | Path, destination: str | Path, limits: TreeLimits = TreeLimits(), *, mode: int = 0o644) -> str:
    """Copy the folders and regular files of ``source`` (nothing else) and return their SHA-256.

    The copy is what a sandbox then sees: the hash describes exactly the bytes that ran.
    """
    destination = Path(destination)
    destination.mkdir(parents=True, exist_ok=True)
    digest = hashlib.sha256()
    for relative, fd, size in _open_regular_files(source, limits):
        try:
            target = destination / relative
            target.parent.mkdir(parents=True, exist_ok=True)
            os.chmod(target.parent, 0o755)
            writer = open(target, "wb")
        except BaseException:
            os.close(fd)
            raise
        digest.update(relative.encode() + b"\0")
        with writer:
            for chunk in _read_exactly(fd, size):
                digest.update(chunk)
                writer.write(chunk)
        os.chmod(target, mode)
    os.chmod(destination, 0o755)
    return digest.hexdigest()


def tree_hash(folder: str | Path, limits: TreeLimits = TreeLimits(), *, skip: frozenset[str] = frozenset()) -> str:
    """SHA-256 over the relative paths and bytes of a folder's regular files (refusing anything else)."""
    digest = hashlib.sha256()
    for relative, fd, size in _open_regular_files(folder, limits):
        if Path(relative).name in skip:
            os.close(fd)
            continue
        digest.update(relative.encode() + b"\0")
        for chunk in _read_exactly(fd, size):
            digest.update(chunk)
    return digest.hexdigest()


def extract_tar(
    archive: str | Path, destination: str | Path, limits: TreeLimits = TreeLimits(), *, what: str = "the sandbox's archive"
) -> None:
    """Unpack an untrusted tar stream (a sandbox's output, a learner's upload): folders and regular
    files only, inside ``destination``."""
    destination = Path(destination)
    destination.mkdir(parents=True, exist_ok=True)
    count, total = 0, 0
    try:
        with tarfile.open(archive, mode="r:") as tar:
            for member in tar:
                if not (member.isdir() or member.isreg()):
                    raise UnsafeFile(f"{member.name} in {what} is not a folder or a regular file")
                count += 1
                total += member.size
                if count > limits.max_files or total > limits.max_bytes:
                    raise UnsafeFile(f"{what} holds more than {limits.max_files} files or {describe_bytes(limits.max_bytes)}")
                tar.extract(member, destination, filter="data")
    except tarfile.TarError as error:
        raise UnsafeFile(f"{what} cannot be read: {error}") from None
