"""Uploaded import files waiting for the officer to confirm the preview: kept under a random name
in the upload directory, bound to the uploader's session, removed once imported or cancelled."""
from __future__ import annotations

import logging
import re
import secrets
import time
from pathlib import Path
from typing import Optional

logger = logging.getLogger(__name__)

ALLOWED_SUFFIXES = (".csv", ".txt", ".tsv", ".xlsx", ".xlsm", ".yml", ".yaml")
MAX_UPLOAD_BYTES = 10 * 1024 * 1024
STALE_AFTER_SECONDS = 24 * 3600
_TOKEN = re.compile(r"[A-Za-z0-9_\-]{20,64}")


class UploadError(ValueError):
    """An upload cannot be accepted; the message is plain Chinese."""


def suffix_of(filename: str) -> str:
    """The lower-case suffix of an uploaded file name, if it is one the import reads."""
    suffix = Path(filename or "").suffix.lower()
    if suffix == ".xls":
        raise UploadError("不支持旧版 .xls 文件，请在 Excel 里另存为 .xlsx 或 CSV")
    if suffix not in ALLOWED_SUFFIXES:
        raise UploadError(f"不支持的文件类型“{suffix or '（无扩展名）'}”，请上传 CSV、.xlsx 或 YAML")
    return suffix


def stage(upload_dir: Path, data: bytes, suffix: str) -> str:
    """Keep the uploaded bytes under a fresh random token; returns the token."""
    if not data:
        raise UploadError("文件是空的")
    if len(data) > MAX_UPLOAD_BYTES:
        raise UploadError(f"文件太大（最多 {MAX_UPLOAD_BYTES // 1024 // 1024} MB），请分成几个文件上传")
    upload_dir.mkdir(parents=True, exist_ok=True)
    _remove_stale(upload_dir)
    token = secrets.token_urlsafe(24)
    (upload_dir / f"{token}{suffix}").write_bytes(data)
    return token


def staged_path(upload_dir: Path, token: str, suffix: str) -> Optional[Path]:
    """The staged file for `token`, if it still exists (the token never names a path outside the directory)."""
    if not _TOKEN.fullmatch(token or "") or suffix not in ALLOWED_SUFFIXES:
        return None
    path = upload_dir / f"{token}{suffix}"
    return path if path.is_file() else None


def discard(upload_dir: Path, token: str, suffix: str) -> None:
    """Remove a staged file."""
    path = staged_path(upload_dir, token, suffix)
    if path is not None:
        path.unlink(missing_ok=True)


def _remove_stale(upload_dir: Path) -> None:
    # Previews nobody confirmed: a day later nobody will.
    cutoff = time.time() - STALE_AFTER_SECONDS
    for path in upload_dir.iterdir():
        if path.is_file() and path.stat().st_mtime < cutoff:
            path.unlink(missing_ok=True)
