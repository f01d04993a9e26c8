"""Teacher stores (the module molmtd/store.py, moved into a package before it is split)."""

from molmtd.store.teacher_store import (
    DEFAULT_CHUNK_SIZE,
    FORMAT_NAME,
    FORMAT_VERSION,
    MAX_LISTED_FAILURES,
    ConfigMismatchError,
    StoreError,
    TeacherStore,
    build_store,
    build_teacher,
    embed_chunk,
    format_report,
    package_versions,
)

__all__ = [
    "DEFAULT_CHUNK_SIZE",
    "FORMAT_NAME",
    "FORMAT_VERSION",
    "MAX_LISTED_FAILURES",
    "ConfigMismatchError",
    "StoreError",
    "TeacherStore",
    "build_store",
    "build_teacher",
    "embed_chunk",
    "format_report",
    "package_versions",
]
