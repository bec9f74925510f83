//! The TLS side of the CoT listeners (`feed cot`, `feed cot-out`): rustls through the
//! server's `tls::stream_config`; mutual TLS when a client CA is given.

use anyhow::Result;
use std::path::PathBuf;
use tokio_rustls::TlsAcceptor;

/// None without a certificate; with `client_ca`, every client must show a certificate it signed.
pub(crate) fn acceptor(
    cert: &Option<PathBuf>,
    key: &Option<PathBuf>,
    client_ca: &Option<PathBuf>,
) -> Result<Option<TlsAcceptor>> {
    Ok(match (cert, key) {
        (Some(cert), Some(key)) => Some(TlsAcceptor::from(deconflict_server::tls::stream_config(
            cert,
            key,
            client_ca.as_deref(),
        )?)),
        _ => None,
    })
}
