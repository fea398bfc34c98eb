"""``UploadFile``: a parameter that must receive an uploaded file, not a plain field."""

from __future__ import annotations

from typing import Any

from ..datastructures import UploadFile
from .errors import Converter, fail

__all__ = ["upload_converter"]


def upload_converter(tp: type[UploadFile]) -> Converter:
    """Pass an ``UploadFile`` (of class ``tp``) through; refuse anything else as FastAPI does."""

    def convert(value: Any) -> Any:
        if isinstance(value, tp):
            return value
        # FastAPI's words for a text field sent where a file was expected.
        raise fail(
            "value_error", f"Value error, Expected UploadFile, received: {type(value)}", value,
            {"error": {}},
        )

    return convert
