//! The TLS side of the CoT listeners (`feed cot`, `feed cot-out`): rustls through the
//! server's `tls::stream_config`; mutual TLS when a client CA is given.

use super::args::TlsArgs;
use anyhow::Result;
use tokio_rustls::TlsAcceptor;

/// None without a certificate; with a client CA, every client must show a certificate it
/// signed.
pub(crate) fn acceptor(args: &TlsArgs) -> Result<Option<TlsAcceptor>> {
    Ok(match (&args.tls_cert, &args.tls_key) {
        (Some(cert), Some(key)) => Some(TlsAcceptor::from(deconflict_server::tls::stream_config(
            cert,
            key,
            args.tls_client_ca.as_deref(),
        )?)),
        _ => None,
    })
}
