"""RFC 5424 syslog messages and ArcSight CEF lines, each with the escaping its grammar requires."""

from __future__ import annotations

import re

from config_audit import __version__
from config_audit.ledger.entries import Entry
from config_audit.siem.formats.common import PRODUCT, VENDOR, Summary, summarize

# Private enterprise number of the example in RFC 5424 section 7.2.2; override for your own.
SD_ID = "config-audit@32473"
FACILITY = 13  # log audit
_BOM = "\ufeff"
_NOT_PRINTUSASCII = re.compile(r"[^\x21-\x7e]")
_SD_NAME_FORBIDDEN = set('= ]"')
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def sd_name(name: str) -> str:
    """Check an SD-ID or PARAM-NAME: 1-32 printable US-ASCII, none of `= ]"`."""
    if not 1 <= len(name) <= 32 or _NOT_PRINTUSASCII.search(name) or set(name) & _SD_NAME_FORBIDDEN:
        raise ValueError(f"not a valid RFC 5424 SD-NAME: {name!r}")
    return name


def sd_value(value: str) -> str:
    """Escape a PARAM-VALUE: `\\`, `"` and `]` get a backslash (RFC 5424 section 6.3.3).

    Control characters are replaced by U+FFFD: the grammar allows them, but many collectors
    split on newlines; the record hash still ties the copy back to the exact signed line.
    """
    value = value.replace("\\", "\\\\").replace('"', '\\"').replace("]", "\\]")
    return _CONTROL.sub("\ufffd", value)


def header_field(value: str, limit: int) -> str:
    """HOSTNAME / APP-NAME / PROCID / MSGID: printable US-ASCII only, bounded, `-` if empty."""
    cleaned = _NOT_PRINTUSASCII.sub("_", value)[:limit]
    return cleaned or "-"


def _syslog_severity(s: Summary) -> int:
    if s.verdict == "violation" or s.valid is False:
        return 3  # error
    return 4 if s.weakens else 5  # warning, notice


def structured_data(s: Summary) -> str:
    params = [
        ("seq", str(s.seq)),
        ("hash", s.hash),
        ("prev", s.prev_hash),
        ("id", s.id),
        ("key", s.key_id),
        ("source", s.source),
        ("action", s.action),
        ("path", s.path),
        ("user", s.user_name),
        ("email", s.user_email),
        ("assurance", s.assurance),
        ("valid", "" if s.valid is None else str(s.valid).lower()),
        ("verdict", s.verdict),
        ("weakens", str(s.weakens).lower()),
        ("rules", ",".join(s.rules)),
        ("entities", ",".join(s.entities)),
    ]
    body = " ".join(f'{sd_name(k)}="{sd_value(v)}"' for k, v in params if v)
    return f"[{sd_name(SD_ID)} {body}]"


def render_rfc5424(entry: Entry, *, host: str, procid: str = "-") -> bytes:
    """One RFC 5424 message; MSG is the signed record line itself (BOM-prefixed UTF-8)."""
    s = summarize(entry)
    pri = FACILITY * 8 + _syslog_severity(s)
    header = " ".join(
        [
            f"<{pri}>1",
            s.time_text,  # RFC 3339, UTC, microseconds: within TIME-SECFRAC's six digits
            header_field(s.host or host, 255),
            header_field(PRODUCT, 48),
            header_field(procid, 128),
            header_field(s.source, 32),
        ]
    )
    # The canonical record line has no raw control characters: JSON escapes them.
    return f"{header} {structured_data(s)} {_BOM}".encode() + entry.line


def cef_header(value: str) -> str:
    """Escape a CEF header field: `\\` and `|`; newlines are not allowed, so become spaces."""
    value = value.replace("\\", "\\\\").replace("|", "\\|")
    return value.replace("\r", " ").replace("\n", " ")


def cef_value(value: str) -> str:
    """Escape a CEF extension value: `\\`, `=`, and newlines as `\\n` / `\\r`."""
    value = value.replace("\\", "\\\\").replace("=", "\\=")
    return value.replace("\r\n", "\\n").replace("\n", "\\n").replace("\r", "\\r")


def _signature_id(s: Summary) -> str:
    if s.verdict == "violation":
        return "policy-violation"
    if s.valid is False:
        return "invalid-file"
    if s.weakens:
        return "weakening-change"
    return f"config-{s.action}"


def render_cef(entry: Entry) -> bytes:
    s = summarize(entry)
    header = "|".join(
        [
            "CEF:0",
            cef_header(VENDOR),
            cef_header(PRODUCT),
            cef_header(__version__),
            cef_header(_signature_id(s)),
            cef_header(s.message),
            str(s.severity),
        ]
    )
    ext = [
        ("rt", str(int(s.time.timestamp() * 1000))),
        ("externalId", s.id),
        ("act", s.action),
        ("outcome", s.outcome),
        ("suser", s.user_name),
        ("suid", s.user_email),
        ("shost", s.host),
        ("filePath", s.path),
        ("cs1Label", "recordHash"),
        ("cs1", s.hash),
        ("cn1Label", "sequence"),
        ("cn1", str(s.seq)),
        ("cs2Label", "prevHash"),
        ("cs2", s.prev_hash),
        ("cs3Label", "policyRules"),
        ("cs3", ",".join(s.rules)),
        ("cs4Label", "repository"),
        ("cs4", s.repository),
        ("cs5Label", "commit"),
        ("cs5", s.commit),
        ("cs6Label", "changeKinds"),
        ("cs6", ",".join(s.kinds)),
        ("flexString1Label", "assurance"),
        ("flexString1", s.assurance),
        ("msg", s.message),
    ]
    # A custom field's label goes only with a value: drop both when the value is empty.
    present = {k for k, v in ext if v}
    body = " ".join(
        f"{k}={cef_value(v)}"
        for k, v in ext
        if v and (not k.endswith("Label") or k[: -len("Label")] in present)
    )
    return f"{header}|{body}".encode()
