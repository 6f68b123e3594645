"""The record's canonical form (RFC 8785) through the fast path is byte for byte rfc8785's.

Every record's hash and signature are over `canonical_bytes`; one byte of difference would make
`verify` reject good logs, or accept bodies another implementation reads differently. So the
fast path is held equal to the reference implementation on generated values: all JSON types,
keys and strings from all of Unicode (astral, control characters, lone surrogates), integers
around the 2**53 limit, floats, nesting, and str/int subclasses (which must take the slow path).
"""

from __future__ import annotations

import enum

import rfc8785
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from config_audit.ledger.records import canonical_bytes

ANY_TEXT = st.text(st.characters(codec=None, exclude_categories=()), max_size=12)
SOME_TEXT = st.one_of(ANY_TEXT, st.text(max_size=12), st.sampled_from(["", "a", "\x00", "\x7f"]))
# Where UTF-16 order (RFC 8785's) and code-point order (Python's) part: above U+E000 against
# the astral planes, which UTF-16 writes as surrogates (D800-DFFF) and so sorts first.
ORDER_TEXT = st.text(st.sampled_from(["a", "é", "\ue000", "\uffff", "\U00010000", "\U0001f600"]),
                     min_size=1, max_size=3)
KEYS = st.one_of(SOME_TEXT, ORDER_TEXT)


class Kind(str, enum.Enum):  # noqa: UP042  (its str() is "Kind.ADDED": rfc8785 must not use it)
    ADDED = "recognizer.added"


LEAVES = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**53) - 3, max_value=2**53 + 3),
    st.integers(),
    st.floats(allow_nan=True, allow_infinity=True),
    SOME_TEXT,
    st.just(Kind.ADDED),
)
VALUES = st.recursive(
    LEAVES,
    lambda inner: st.one_of(
        st.lists(inner, max_size=5),
        st.tuples(inner, inner),
        st.dictionaries(KEYS, inner, max_size=5),
    ),
    max_leaves=30,
)


def reference(value: object) -> bytes | type[Exception]:
    try:
        return rfc8785.dumps(value)  # type: ignore[arg-type]
    except Exception as exc:
        return type(exc)


def ours(value: object) -> bytes | type[Exception]:
    try:
        return canonical_bytes(value)
    except Exception as exc:
        return type(exc)


@settings(max_examples=3000, deadline=None, derandomize=True, database=None,
          suppress_health_check=[HealthCheck.too_slow])
@given(VALUES)
def test_the_fast_path_is_rfc8785_byte_for_byte(value: object) -> None:
    assert ours(value) == reference(value)


def test_records_with_hostile_content_seal_as_rfc8785_would() -> None:
    """Real record bodies (a file name that is not UTF-8, names from other scripts, control
    characters, deny-list values): each member and the whole sealed record canonicalize as
    rfc8785 does, so records written before this fast path verify as they did."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    from config_audit.ledger.log import seal
    from config_audit.ledger.records import build_record_body, canonical_members, join_members
    from config_audit.ledger.signing import Ed25519Signer

    pem = Ed25519PrivateKey.generate().private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    signer = Ed25519Signer.from_pem(pem, origin="test")
    bodies = [
        build_record_body(source="manual", path="recognizers/caf\udce9.yaml"),
        build_record_body(
            source="ci",
            path="recognizers/日本.yaml",
            changes=[{"kind": "deny_list.removed", "summary": "Ünïcödé \x01\t\n 𝄞", "line": 3}],
            author={"assurance": "claimed", "author_name": "Zoë 🙂", "author_email": "z@x"},
            extra={"count": 2**53 - 1, "nested": [[], {}, [None, True, False]]},
        ),
    ]
    for body in bodies:
        record, line, _ = seal(body, signer, seq=7, prev_hash="0" * 64)
        assert line == rfc8785.dumps(record)
        for key, member in canonical_members(record).items():
            assert member == rfc8785.dumps(key) + b":" + rfc8785.dumps(record[key])
        assert join_members(canonical_members(record)) == rfc8785.dumps(record)
