"""Who signed an APK: the certificates each signature scheme records (read by inputs/signing/)."""

from __future__ import annotations

from permaudit._infra.records import record


@record
class Certificate:
    """One X.509 signer certificate, identified by the SHA-256 of its DER encoding."""

    sha256: str
    subject: str
    issuer: str
    #: Validity as ISO-8601 dates (UTC).
    not_before: str
    not_after: str
    #: The Android SDK debug key (subject ``CN=Android Debug``).
    debug: bool = False


@record
class Signer:
    """A signer as one signature scheme records it."""

    #: ``v1`` (JAR), ``v2``, ``v3`` or ``v3.1`` (APK Signature Scheme blocks).
    scheme: str
    #: The signer's certificate first, then any chain certificates.
    certificates: tuple[Certificate, ...]
    #: v3/v3.1 signers apply to a platform range.
    min_sdk: int | None = None
    max_sdk: int | None = None


@record
class SigningInfo:
    """Which signature schemes an APK carries, and who signed it under each."""

    schemes: tuple[str, ...] = ()
    signers: tuple[Signer, ...] = ()
    #: Evidence of ambiguous signing: differing signers across schemes, several v1
    #: certificates, duplicate signing-block ids, ... One plain sentence each.
    problems: tuple[str, ...] = ()
