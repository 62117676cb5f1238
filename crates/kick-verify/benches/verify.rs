//! Verifications per second for each backend: our `PublicKey::verify` beside the raw library call
//! on the same prepared input, so the wrapper's overhead shows as a ratio within one run.
//!
//! `cargo bench -p kick-verify --features aws-lc-rs --bench verify`

#![allow(missing_docs, clippy::unwrap_used)]

use std::hint::black_box;

use base64::Engine as _;
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use kick_verify::{Backend, PublicKey, SignedMessage};
use rsa::{
    RsaPublicKey,
    pkcs1v15::{Signature, VerifyingKey},
    pkcs8::DecodePublicKey,
    signature::Verifier,
};
use sha2::Sha256;

const PUBLIC_PEM: &str = include_str!("../tests/data/test_public_spki.pem");
const MESSAGE_ID: &str = "01JMND5PS7XQ0V3F9E2B4C6D8A";
const TIMESTAMP: &str = "2025-02-21T23:23:36Z";
const BODY: &[u8] = include_bytes!("../tests/data/kat1.body");
const SIGNATURE: &str = include_str!("../tests/data/kat1.sig");

fn signed_string() -> Vec<u8> {
    [
        MESSAGE_ID.as_bytes(),
        b".",
        TIMESTAMP.as_bytes(),
        b".",
        BODY,
    ]
    .concat()
}

fn bench(c: &mut Criterion) {
    let mut group = c.benchmark_group("verify");
    group.throughput(Throughput::Elements(1));
    let message = SignedMessage {
        message_id: MESSAGE_ID,
        timestamp: TIMESTAMP,
        body: BODY,
        signature_b64: SIGNATURE,
    };
    let key = PublicKey::from_pem(PUBLIC_PEM).unwrap();
    for backend in Backend::ALL {
        let key = key.clone().with_backend(*backend);
        key.verify(&message).unwrap();
        group.bench_function(format!("kick-verify/{}", backend.name()), |b| {
            b.iter(|| key.verify(black_box(&message)));
        });
    }

    let signed = signed_string();
    let signature = base64::engine::general_purpose::STANDARD
        .decode(SIGNATURE)
        .unwrap();
    let rsa_key = RsaPublicKey::from_public_key_pem(PUBLIC_PEM).unwrap();
    let raw_rsa = VerifyingKey::<Sha256>::new(rsa_key.clone());
    let raw_signature = Signature::try_from(signature.as_slice()).unwrap();
    raw_rsa.verify(&signed, &raw_signature).unwrap();
    group.bench_function("raw/rsa", |b| {
        b.iter(|| raw_rsa.verify(black_box(&signed), black_box(&raw_signature)));
    });

    #[cfg(feature = "aws-lc-rs")]
    {
        use aws_lc_rs::signature::{ParsedPublicKey, RSA_PKCS1_2048_8192_SHA256};
        use rsa::pkcs1::EncodeRsaPublicKey;
        let der = rsa_key.to_pkcs1_der().unwrap();
        let raw_aws = ParsedPublicKey::new(&RSA_PKCS1_2048_8192_SHA256, der.as_bytes()).unwrap();
        raw_aws.verify_sig(&signed, &signature).unwrap();
        group.bench_function("raw/aws-lc-rs", |b| {
            b.iter(|| raw_aws.verify_sig(black_box(&signed), black_box(&signature)));
        });
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
