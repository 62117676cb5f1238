//! The verification backends behind [`crate::PublicKey`].

pub(crate) mod rust_crypto;

#[cfg(feature = "aws-lc-rs")]
pub(crate) mod aws_lc;

/// Which library performs the RSA operation.
///
/// Both give the same answers (the test suite runs every case on each); they differ in speed and
/// in what they need to build.
#[derive(Clone, Copy, Debug, Eq, Hash, PartialEq)]
#[non_exhaustive]
pub enum Backend {
    /// RustCrypto's `rsa` + `sha2`: pure Rust, builds anywhere. The default.
    RustCrypto,
    /// aws-lc-rs (AWS-LC, C and assembly): about ten times faster. Needs the `aws-lc-rs` feature.
    #[cfg(feature = "aws-lc-rs")]
    #[cfg_attr(docsrs, doc(cfg(feature = "aws-lc-rs")))]
    AwsLc,
}

impl Backend {
    /// Every backend compiled into this build, slowest first.
    pub const ALL: &'static [Self] = &[
        Self::RustCrypto,
        #[cfg(feature = "aws-lc-rs")]
        Self::AwsLc,
    ];

    /// The fastest backend compiled into this build.
    pub const fn fastest() -> Self {
        #[cfg(feature = "aws-lc-rs")]
        {
            Self::AwsLc
        }
        #[cfg(not(feature = "aws-lc-rs"))]
        {
            Self::RustCrypto
        }
    }

    /// A short name for logs and benchmark reports.
    pub const fn name(self) -> &'static str {
        match self {
            Self::RustCrypto => "rsa",
            #[cfg(feature = "aws-lc-rs")]
            Self::AwsLc => "aws-lc-rs",
        }
    }
}
