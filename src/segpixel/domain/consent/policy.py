"""May we store and sync for this request? (SPEC §3.5) One decision, made once per request.

`gdpr=1` needs a TCF v2 string granting Purpose 1 (storage) to our vendor id; `consent=0` refuses;
no signal at all means no consent regime applies. The same TC string comes back on every page view
of a user, so decisions are cached by string.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from segpixel.domain.consent.tcf import TCFDecodeError, decode_tc_string

MAX_TC_STRING = 8192  # real strings are a few hundred characters; longer ones are refused unread


@dataclass(frozen=True, slots=True)
class ConsentDecision:
    allowed: bool
    reason: str | None = None  # why not, for the warning header and debug=1


ALLOW = ConsentDecision(True)


def decide(
    gdpr: str | None, gdpr_consent: str | None, consent: str | None, vendor_id: int | None
) -> ConsentDecision:
    if consent == "0":
        return ConsentDecision(False, "consent=0: nothing stored")
    if gdpr != "1":
        return ALLOW
    if not gdpr_consent:
        return ConsentDecision(False, "gdpr=1 without gdpr_consent: nothing stored")
    if len(gdpr_consent) > MAX_TC_STRING:
        return ConsentDecision(False, "gdpr_consent is too long to be a TC string: nothing stored")
    return _tcf_decision(gdpr_consent, vendor_id)


@lru_cache(maxsize=4096)
def _tcf_decision(tc_string: str, vendor_id: int | None) -> ConsentDecision:
    try:
        tc = decode_tc_string(tc_string)
    except TCFDecodeError as exc:
        return ConsentDecision(False, f"gdpr_consent does not decode ({exc}): nothing stored")
    if not tc.has_purpose_consent(1):
        return ConsentDecision(False, "gdpr_consent does not grant purpose 1 (storage)")
    if vendor_id is not None and not tc.has_vendor_consent(vendor_id):
        return ConsentDecision(False, f"gdpr_consent does not grant vendor {vendor_id}")
    if vendor_id is not None and tc.publisher_disallows(1, vendor_id):
        return ConsentDecision(False, f"the publisher disallows purpose 1 for vendor {vendor_id}")
    return ALLOW
