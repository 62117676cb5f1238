//! Kick's published webhook public key.

/// Kick's webhook signing key as published in Kick's developer docs (and served by
/// `GET https://api.kick.com/public/v1/public-key`): RSA-2048, SPKI PEM. Unchanged since the
/// first docs draft (February 2025).
pub const KICK_PUBLIC_KEY_PEM: &str = "-----BEGIN PUBLIC KEY-----
MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEAq/+l1WnlRrGSolDMA+A8
6rAhMbQGmQ2SapVcGM3zq8ANXjnhDWocMqfWcTd95btDydITa10kDvHzw9WQOqp2
MZI7ZyrfzJuz5nhTPCiJwTwnEtWft7nV14BYRDHvlfqPUaZ+1KR4OCaO/wWIk/rQ
L/TjY0M70gse8rlBkbo2a8rKhu69RQTRsoaf4DVhDPEeSeI5jVrRDGAMGL3cGuyY
6CLKGdjVEM78g3JfYOvDU/RvfqD7L89TZ3iN94jrmWdGz34JNlEI5hqK8dd7C5EF
BEbZ5jgB8s8ReQV8H+MkuffjdAj3ajDDX3DOJMIut1lBrUVD1AaSrGCKHooWoL2e
twIDAQAB
-----END PUBLIC KEY-----
";

/// SHA-256 of the DER (SubjectPublicKeyInfo) of [`KICK_PUBLIC_KEY_PEM`], as lowercase hex: the
/// fingerprint that `PublicKey`'s `Debug` shows for Kick's key.
pub const KICK_PUBLIC_KEY_SPKI_SHA256: &str =
    "407899e1bb8e86c10ecc032cd8c5d02f1180e8b3c58686ddfe1fb541d8a646aa";
