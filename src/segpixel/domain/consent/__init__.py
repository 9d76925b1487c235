"""User-consent signals that decide whether the pixel server may store data."""

from segpixel.domain.consent.tcf import (
    TCFDecodeError,
    TCString,
    decode_tc_string,
    storage_allowed,
)

__all__ = ["TCFDecodeError", "TCString", "decode_tc_string", "storage_allowed"]
