"""The one exception tree of the crypto package.

Every error has a stable ``code`` string that outer layers (the hub's API, the CLI) map to their own
vocabulary; nothing here knows about HTTP. Messages say what was wrong in plain words and never
include key material or plaintext.
"""

from __future__ import annotations


class CryptoError(Exception):
    """Base of every error raised by :mod:`crypto`."""

    code: str = "crypto.error"


class MalformedError(CryptoError):
    """Input is not of the shape the profile requires (structure, encoding, sizes)."""

    code = "crypto.malformed"


class DuplicateKeyError(MalformedError):
    """A JSON object repeats a member name; JOSE (RFC 7515 §5.2) forbids accepting that."""

    code = "crypto.duplicate_member"


class TrailingDataError(MalformedError):
    """Bytes follow the JSON value; a parser that ignores them would see a different document."""

    code = "crypto.trailing_data"


class EncodingError(MalformedError):
    """A base64url field is not in the one canonical form (no padding, zero trailing bits)."""

    code = "crypto.non_canonical_encoding"


class OversizeError(MalformedError):
    """A field or the whole input exceeds a profile limit."""

    code = "crypto.oversize"


class UnsupportedAlgorithmError(MalformedError):
    """An ``alg``/``enc``/``crv``/``kty`` outside the profile (no negotiation, no downgrade)."""

    code = "crypto.unsupported_algorithm"


class ForbiddenHeaderError(MalformedError):
    """A header parameter the profile forbids (``zip``, ``crit``, ``jku``, ``jwk``, ``x5u`` …)."""

    code = "crypto.forbidden_header"


class LowOrderKeyError(MalformedError):
    """A public key of small order. X25519 (the all-zero point, say): any key agreement with it
    gives a shared secret an attacker knows, or none at all. Ed25519 (the identity point, say):
    a signature under it can be made by anyone for any message. No honest key is one."""

    code = "crypto.low_order_key"


class InvalidKeyError(CryptoError):
    """A key could not be loaded, has the wrong type, or is not the one a header names."""

    code = "crypto.invalid_key"


class SignatureError(CryptoError):
    """A signature does not verify under the key it claims."""

    code = "crypto.bad_signature"


class NotARecipientError(CryptoError):
    """The envelope has no recipient entry for this key."""

    code = "crypto.not_a_recipient"


class DecryptionError(CryptoError):
    """Key unwrap or authenticated decryption failed: the ciphertext or a key was altered."""

    code = "crypto.decryption_failed"


class CommitmentError(CryptoError):
    """The content key does not match the commitment in the protected header."""

    code = "crypto.key_commitment_mismatch"


# --- transparency log (crypto.merkle, crypto.note) ---------------------------------------------


class ProofError(CryptoError):
    """A Merkle inclusion or consistency proof does not check out against the roots given.

    Raised for every way a proof can fail (wrong hash, wrong length, wrong sizes, hashes that are
    not 32 bytes): a verifier needs only to know that the proof proves nothing.
    """

    code = "merkle.bad_proof"


class TreeRangeError(CryptoError):
    """A proof or subtree was asked for outside the tree (index past the size, size1 > size2, a
    subtree not yet complete). A caller's request is wrong, not the log."""

    code = "merkle.out_of_range"


class NoteError(CryptoError):
    """Base of the signed-note errors (c2sp.org/signed-note); never raised itself."""

    code = "note.error"


class NoteMalformedError(NoteError):
    """The bytes are not a signed note as the spec writes it (UTF-8, control characters, blank
    line before the signatures, signature line syntax, size and count limits, duplicates)."""

    code = "note.malformed"


class NoteUnverifiedError(NoteError):
    """The note is well formed but no signature is by a key the caller trusts."""

    code = "note.unverified"


class NoteSignatureError(NoteError):
    """A signature by a trusted key (same name and key ID) does not verify: the whole note is
    rejected, as the spec recommends, because the text or the signature was altered."""

    code = "note.bad_signature"


class CheckpointError(NoteError):
    """A note text is not a tlog checkpoint (c2sp.org/tlog-checkpoint) in its one strict form."""

    code = "checkpoint.malformed"


class CheckpointOriginError(CheckpointError):
    """A correctly signed checkpoint names another log than the one the caller expects."""

    code = "checkpoint.wrong_origin"


# --- witnessed log (crypto.witness, crypto.tlog_proof) -------------------------------------------


class CosignatureError(NoteError):
    """A cosignature by a trusted witness key (same name and key ID) does not verify, is not a
    timestamped Ed25519 signature, or is dated in the future: the note is rejected."""

    code = "cosignature.invalid"


class WitnessPolicyError(CryptoError):
    """A witness policy file (c2sp.org/tlog-policy) is not valid: syntax, unknown or duplicate
    names, duplicate keys, thresholds out of range, or not exactly one quorum line."""

    code = "witness_policy.malformed"


class QuorumError(CryptoError):
    """A checkpoint is correctly signed by the log but not cosigned by enough of the witnesses the
    pinned policy requires: it may be a view shown to this reader only (a split view)."""

    code = "witness_policy.no_quorum"


class TlogProofError(MalformedError):
    """A file is not a c2sp.org/tlog-proof@v1 proof in its one strict form."""

    code = "tlog_proof.malformed"
