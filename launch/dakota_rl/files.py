"""Files a reader may count as done are written whole or not at all.

`write_atomic` writes `<name>.tmp` beside the target, flushes it to disk and renames it over the target, so a
crash (kill -9, a full disk) leaves either the previous file or the new one, never half of one. A failed write
removes its temporary file; a full or read-only disk becomes one `UserError` line naming the path.
"""

from __future__ import annotations

import contextlib
import errno
import os
from collections.abc import Iterable
from pathlib import Path

from dakota_rl.errors import UserError


def write_atomic(path: Path, text: str | Iterable[str]) -> None:
    """Write `text` (a string, or pieces written in turn) to `path` through a renamed temporary file."""
    path = Path(path)
    tmp = path.with_name(path.name + ".tmp")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with tmp.open("w", encoding="utf-8") as f:
            for piece in [text] if isinstance(text, str) else text:
                f.write(piece)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except OSError as err:
        _remove(tmp)
        raise unwritable(path, err) from None
    except BaseException:
        _remove(tmp)
        raise


def _remove(tmp: Path) -> None:
    """Remove a temporary file if there is one (its folder may not even exist)."""
    with contextlib.suppress(OSError):
        tmp.unlink(missing_ok=True)


def save_figure(fig, path: Path, dpi: int = 110) -> None:
    """`fig.savefig(path)` through a renamed temporary file, failures as for `write_atomic`."""
    path = Path(path)
    tmp = path.with_name(path.stem + ".tmp" + path.suffix)  # savefig picks the format from the suffix
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fig.savefig(tmp, dpi=dpi)
        os.replace(tmp, path)
    except OSError as err:
        _remove(tmp)
        raise unwritable(path, err) from None


def unwritable(path: Path, err: OSError) -> UserError:
    """One line for a write that failed for want of space or permission (other errors say their reason)."""
    why = {
        errno.ENOSPC: "the disk is full",
        errno.EDQUOT: "the disk quota is exceeded",
        errno.EROFS: "the file system is read-only",
        errno.EACCES: "permission denied",
        errno.EPERM: "permission denied",
    }.get(err.errno, err.strerror or str(err))
    return UserError(f"cannot write {path}: {why}")
