"""Find input files and open them as plain byte streams, whatever wraps them.

Compression is recognised by its magic bytes, never by the file name: blob
downloads lose their extensions, and a `.json` may well be gzipped.
"""

from __future__ import annotations

import codecs
import gzip
import hashlib
import io
import os
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, BinaryIO, cast

GZIP_MAGIC = b"\x1f\x8b"
ZIP_MAGIC = b"PK\x03\x04"
_UTF16_BOMS = (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)


class InputError(Exception):
    """A whole input cannot be read; the message says why."""


@dataclass(frozen=True)
class InputFile:
    """One logical input: a file on disk, or one member of a zip archive."""

    path: Path
    member: str | None = None

    @property
    def name(self) -> str:
        return f"{self.path}!{self.member}" if self.member else str(self.path)

    def stat_key(self) -> tuple[int, int]:
        """Size and modification time of the file on disk, for cheap re-ingest checks."""
        st = self.path.stat()
        return st.st_size, st.st_mtime_ns

    def sha256(self) -> str:
        """Hash of the bytes as stored (for an archive member: as stored in the archive, unpacked)."""
        digest = hashlib.sha256()
        with self._open_raw() as raw:
            while chunk := raw.read(1 << 22):
                digest.update(chunk)
        return digest.hexdigest()

    def open(self, on_read: Callable[[int], None] | None = None) -> BinaryIO:
        """The decompressed bytes of this input, UTF-16 transcoded to UTF-8, without a BOM.

        `on_read` hears how many stored (compressed) bytes each read consumed.
        """
        raw = self._open_raw()
        if on_read is not None:
            raw = cast(BinaryIO, _Raw(raw, on_read=on_read))
        return _decode_layers(raw, self.name)

    def _open_raw(self) -> BinaryIO:
        if self.member is None:
            return open(self.path, "rb")
        archive = zipfile.ZipFile(self.path)
        return cast(BinaryIO, _Raw(archive.open(self.member), owner=archive))


def iter_inputs(paths: list[Path], exclude: set[Path] | None = None) -> Iterator[InputFile]:
    """Every input under `paths`, folders walked recursively in a stable order.

    Zip archives are expanded into their members here so that each member gets its
    own ledger entry; everything else is left to `InputFile.open`.
    """
    skip = {p.resolve() for p in (exclude or set())}
    for root in paths:
        if not root.exists():
            raise InputError(f"{root}: no such file or folder")
        files = [root] if root.is_file() else sorted(_walk(root))
        for path in files:
            if path.resolve() in skip:
                continue
            if _is_zip(path):
                yield from _zip_members(path)
            else:
                yield InputFile(path)


def _walk(folder: Path) -> Iterator[Path]:
    for dirpath, dirnames, filenames in os.walk(folder):
        dirnames.sort()
        for name in sorted(filenames):
            yield Path(dirpath) / name


def _is_zip(path: Path) -> bool:
    try:
        with open(path, "rb") as fh:
            return fh.read(4) == ZIP_MAGIC
    except OSError:
        return False


def _zip_members(path: Path) -> Iterator[InputFile]:
    try:
        with zipfile.ZipFile(path) as archive:
            names = [i.filename for i in archive.infolist() if not i.is_dir()]
    except zipfile.BadZipFile:
        # Let the reader report it as a file it cannot understand, with the reason.
        yield InputFile(path)
        return
    for name in sorted(names):
        yield InputFile(path, name)


class _Raw(io.RawIOBase):
    """A byte stream seen as a raw stream, that may report what it reads and close an owner too."""

    def __init__(
        self,
        inner: IO[bytes],
        *,
        on_read: Callable[[int], None] | None = None,
        owner: zipfile.ZipFile | None = None,
    ) -> None:
        self._inner = inner
        self._on_read = on_read
        self._owner = owner

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: memoryview) -> int:  # type: ignore[override]
        data = self._inner.read(len(buffer))
        buffer[: len(data)] = data
        if self._on_read is not None:
            self._on_read(len(data))
        return len(data)

    def close(self) -> None:
        self._inner.close()
        if self._owner is not None:
            self._owner.close()
        super().close()


class _Utf16ToUtf8(io.RawIOBase):
    """Windows PowerShell's `Out-File` and `>` write UTF-16; the readers want UTF-8."""

    def __init__(self, inner: BinaryIO, encoding: str) -> None:
        self._inner = inner
        self._decoder = codecs.getincrementaldecoder(encoding)()
        self._pending = b""

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: memoryview) -> int:  # type: ignore[override]
        while not self._pending:
            chunk = self._inner.read(1 << 20)
            self._pending = self._decoder.decode(chunk, final=not chunk).encode("utf-8")
            if not chunk:
                break
        n = min(len(buffer), len(self._pending))
        buffer[:n] = self._pending[:n]
        self._pending = self._pending[n:]
        return n

    def close(self) -> None:
        self._inner.close()
        super().close()


def _decode_layers(raw: BinaryIO, name: str) -> BinaryIO:
    """Peel gzip layers and a UTF-16 encoding off `raw`."""
    stream = raw if isinstance(raw, io.BufferedReader) else io.BufferedReader(cast(io.RawIOBase, raw), 1 << 20)
    for _ in range(4):  # a gzip inside a gzip happens when a blob was re-compressed on download
        head = stream.peek(4)[:4]
        if head[:2] == GZIP_MAGIC:
            gz = cast(io.RawIOBase, gzip.GzipFile(fileobj=stream, mode="rb"))
            stream = io.BufferedReader(gz, 1 << 20)
            try:
                stream.peek(1)
            except (OSError, EOFError) as exc:
                raise InputError(f"{name}: not a readable gzip stream ({exc})") from exc
            continue
        if head[:3] == codecs.BOM_UTF8:
            stream.read(3)
            return stream
        if head[:2] in _UTF16_BOMS:
            encoding = "utf-16-le" if head[:2] == codecs.BOM_UTF16_LE else "utf-16-be"
            stream.read(2)
            return cast(BinaryIO, io.BufferedReader(_Utf16ToUtf8(cast(BinaryIO, stream), encoding), 1 << 20))
        return cast(BinaryIO, stream)
    return cast(BinaryIO, stream)
