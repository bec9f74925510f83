//! Certificates for the TLS tests: a party's own CA, a server certificate for `localhost` and
//! a client certificate, all signed by it (rcgen), written as PEM files; and a TLS client
//! someone else wrote (Python's `ssl`) to talk to the bridges with.

use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, Issuer, KeyPair};
use std::path::{Path, PathBuf};

/// The PEM files of [`mutual_tls`].
pub(crate) struct TlsFiles {
    pub ca: PathBuf,
    pub server_cert: PathBuf,
    pub server_key: PathBuf,
    pub client_cert: PathBuf,
    pub client_key: PathBuf,
}

/// A CA, a server certificate for `localhost` and a client certificate (`crew-1`), in `dir`.
pub(crate) fn mutual_tls(dir: &Path) -> TlsFiles {
    let ca_key = KeyPair::generate().unwrap();
    let mut ca_params = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    // Distinct names: a leaf named like its issuer would read as self-signed.
    ca_params
        .distinguished_name
        .push(DnType::CommonName, "TAK party CA");
    let ca_cert = ca_params.self_signed(&ca_key).unwrap();
    let issuer = Issuer::new(ca_params, ca_key);
    let write = |name: &str, text: String| {
        let p = dir.join(name);
        std::fs::write(&p, text).unwrap();
        p
    };
    let ca = write("ca.pem", ca_cert.pem());
    let leaf = |names: Vec<String>, stem: &str| {
        let key = KeyPair::generate().unwrap();
        let mut params = CertificateParams::new(names).unwrap();
        params.distinguished_name.push(DnType::CommonName, stem);
        let cert = params.signed_by(&key, &issuer).unwrap();
        (
            write(&format!("{stem}.pem"), cert.pem()),
            write(&format!("{stem}.key"), key.serialize_pem()),
        )
    };
    let (server_cert, server_key) = leaf(vec!["localhost".into()], "server");
    let (client_cert, client_key) = leaf(vec!["crew-1".into()], "client");
    TlsFiles {
        ca,
        server_cert,
        server_key,
        client_cert,
        client_key,
    }
}

/// Python's `ssl` connects to `addr` over TLS trusting `ca`, presenting `client` (cert, key)
/// if given; sends `data`, then reads for up to `read_s` seconds and prints what it got (or
/// `ERROR <kind> <text>`).
pub(crate) fn python_tls(
    addr: &str,
    ca: &Path,
    client: Option<(&Path, &Path)>,
    data: &str,
    read_s: f64,
) -> String {
    let script = r#"
import socket, ssl, sys, time
host, port = sys.argv[1].rsplit(":", 1)
ctx = ssl.create_default_context(cafile=sys.argv[2])
if len(sys.argv) > 6:
    ctx.load_cert_chain(sys.argv[5], sys.argv[6])
got = b""
try:
    with socket.create_connection((host, int(port)), timeout=10) as s:
        with ctx.wrap_socket(s, server_hostname="localhost") as t:
            if sys.argv[3]:
                t.sendall(sys.argv[3].encode())
            end = time.time() + float(sys.argv[4])
            t.settimeout(0.2)
            while time.time() < end:
                try:
                    b = t.recv(65536)
                except socket.timeout:
                    continue
                if not b:
                    break
                got += b
            time.sleep(0.3)
    print("SENT", got.decode(errors="replace"))
except Exception as e:
    print("ERROR", type(e).__name__, e, got.decode(errors="replace"))
"#;
    let mut cmd = std::process::Command::new("python3");
    cmd.arg("-c")
        .arg(script)
        .arg(addr)
        .arg(ca)
        .arg(data)
        .arg(read_s.to_string());
    if let Some((c, k)) = client {
        cmd.arg(c).arg(k);
    }
    let out = cmd.output().expect("python3 runs");
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}
