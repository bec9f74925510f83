//! `serve`, `party`, `token` and `audit`: running the service and administering its store.

use anyhow::{bail, Context, Result};
use clap::{Args, Subcommand};
use deconflict_store::{Role, Store, StoreOptions};
use std::io::Write;
use std::path::PathBuf;

const DEFAULT_DATA_DIR: &str = "./deconflict-data";

#[derive(Debug, Args)]
pub(crate) struct ServeArgs {
    /// Configuration file (TOML; see docs/operations.md). Flags override it.
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Address to listen on [default: 127.0.0.1:8080].
    #[arg(long)]
    pub listen: Option<std::net::SocketAddr>,
    /// Serve HTTPS with this certificate chain (PEM, leaf first); needs --tls-key.
    #[arg(long, value_name = "FILE", requires = "tls_key")]
    pub tls_cert: Option<PathBuf>,
    /// The private key (PEM) of --tls-cert.
    #[arg(long, value_name = "FILE", requires = "tls_cert")]
    pub tls_key: Option<PathBuf>,
    /// Data directory (SQLite database and service key) [default: ./deconflict-data].
    #[arg(long)]
    pub data_dir: Option<PathBuf>,
    /// Separation table (TOML) [default: built in].
    #[arg(long)]
    pub table: Option<PathBuf>,
    /// Store: `postgres://user@host:5432/db` for a PostgreSQL database shared by several nodes
    /// [default: SQLite in the data directory].
    #[arg(long, value_name = "URL")]
    pub store: Option<String>,
    /// PostgreSQL schema [default: the connection's search_path].
    #[arg(long)]
    pub pg_schema: Option<String>,
    /// This node's name (its audit chain and NATS consumers) [default: main].
    #[arg(long)]
    pub node: Option<String>,
    /// NATS server with JetStream, to share reports and alerts with other nodes.
    #[arg(long, value_name = "URL")]
    pub nats: Option<String>,
    /// A region whose reports this node reads from the others: an H3 cell of resolution 0, 1
    /// or 2 (repeat for several) [default: everywhere].
    #[arg(long = "region", value_name = "H3CELL")]
    pub regions: Vec<String>,
}

#[derive(Debug, Args)]
pub(crate) struct DataDir {
    /// Data directory of the service (the SQLite database and the service key).
    #[arg(long, default_value = DEFAULT_DATA_DIR)]
    pub data_dir: PathBuf,
    /// Store: `postgres://…` for a shared PostgreSQL [default: SQLite in the data directory].
    #[arg(long, value_name = "URL")]
    pub store: Option<String>,
    /// PostgreSQL schema [default: the connection's search_path].
    #[arg(long)]
    pub pg_schema: Option<String>,
    /// The audit chain this command writes to.
    #[arg(long, default_value = "main")]
    pub node: String,
}

#[derive(Debug, Subcommand)]
pub(crate) enum PartyCmd {
    /// Register a party (who flies).
    Add {
        name: String,
        /// The coalition it belongs to.
        #[arg(long)]
        member_of: Option<String>,
        /// party, observer or admin.
        #[arg(long, default_value = "party")]
        role: String,
        #[command(flatten)]
        dir: DataDir,
    },
    /// List the parties.
    List {
        #[command(flatten)]
        dir: DataDir,
    },
}

#[derive(Debug, Subcommand)]
pub(crate) enum TokenCmd {
    /// Issue a bearer token for a party; it is printed once and only its hash is kept.
    Issue {
        party: String,
        #[command(flatten)]
        dir: DataDir,
    },
    /// Revoke every token of a party.
    Revoke {
        party: String,
        #[command(flatten)]
        dir: DataDir,
    },
}

#[derive(Debug, Subcommand)]
pub(crate) enum AuditCmd {
    /// Write the whole audit log (JSON Lines) with its signed checkpoints.
    Export {
        #[command(flatten)]
        dir: DataDir,
        /// Output file; `-` for standard output.
        #[arg(long, short, default_value = "-")]
        out: PathBuf,
    },
    /// Check offline an exported log (`audit export`) or a party's view of it
    /// (`GET /v1/audit/export`, told apart by its header); names the first bad entry.
    Verify {
        file: PathBuf,
        /// With a party's view: its receipts (JSON Lines, the `receipt` of each acknowledged
        /// write), each of which must name an entry of the view: a cut entry is named.
        #[arg(long)]
        receipts: Option<PathBuf>,
    },
}

fn now() -> f64 {
    deconflict_server::unix_now()
}

fn open(dir: &DataDir) -> Result<Store> {
    Store::connect(&StoreOptions {
        url: dir.store.clone(),
        data_dir: dir.data_dir.clone(),
        checkpoint_every: deconflict_store::DEFAULT_CHECKPOINT_EVERY,
        node: dir.node.clone(),
        pg_schema: dir.pg_schema.clone(),
    })
    .with_context(|| match &dir.store {
        Some(u) => format!("opening the store at {}", deconflict_store::redact_url(u)),
        None => format!("opening the store in {}", dir.data_dir.display()),
    })
}

pub(crate) fn serve(args: &ServeArgs) -> Result<()> {
    let mut config = crate::common::service_config(args.config.as_deref())?;
    if let Some(l) = args.listen {
        config.listen = l;
    }
    if let Some(d) = &args.data_dir {
        config.data_dir = d.clone();
    }
    if let Some(t) = &args.table {
        config.table = Some(t.clone());
    }
    if let Some(u) = &args.store {
        config.store = Some(u.clone());
    }
    if let Some(x) = &args.pg_schema {
        config.pg_schema = Some(x.clone());
    }
    if let Some(n) = &args.node {
        config.node = n.clone();
    }
    if let Some(u) = &args.nats {
        config.nats = Some(u.clone());
    }
    if !args.regions.is_empty() {
        config.regions = args.regions.clone();
    }
    if let Some(c) = &args.tls_cert {
        config.tls_cert = Some(c.clone());
    }
    if let Some(k) = &args.tls_key {
        config.tls_key = Some(k.clone());
    }
    config.validate()?;
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
        .init();
    // main pinned it already; asking again only reports what it did
    let malloc = deconflict_malloc::pin_mmap_threshold();
    tracing::info!(
        ?malloc,
        threshold = deconflict_malloc::MMAP_THRESHOLD,
        "malloc mmap threshold"
    );
    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    rt.block_on(async move {
        let shutdown = async {
            #[cfg(unix)]
            {
                let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
                    .expect("SIGTERM handler");
                tokio::select! {
                    _ = tokio::signal::ctrl_c() => {}
                    _ = term.recv() => {}
                }
            }
            #[cfg(not(unix))]
            {
                let _ = tokio::signal::ctrl_c().await;
            }
            tracing::info!("shutting down");
        };
        deconflict_server::run(config, shutdown).await
    })
}

pub(crate) fn party(cmd: &PartyCmd) -> Result<()> {
    match cmd {
        PartyCmd::Add {
            name,
            member_of,
            role,
            dir,
        } => {
            let role: Role = role
                .parse()
                .map_err(|_| anyhow::anyhow!("--role must be party, observer or admin"))?;
            let p = open(dir)?.add_party(name, member_of.as_deref(), role, now())?;
            println!("{}", serde_json::to_string(&p)?);
        }
        PartyCmd::List { dir } => {
            for p in open(dir)?.list_parties()? {
                println!("{}", serde_json::to_string(&p)?);
            }
        }
    }
    Ok(())
}

pub(crate) fn token(cmd: &TokenCmd) -> Result<()> {
    match cmd {
        TokenCmd::Issue { party, dir } => {
            let t = open(dir)?.issue_token(party, now())?;
            println!("{t}");
            eprintln!("token issued for {party}: shown once, keep it secret (only its hash is stored)");
        }
        TokenCmd::Revoke { party, dir } => {
            let n = open(dir)?.revoke_tokens(party, now())?;
            eprintln!("revoked {n} token(s) of {party}");
        }
    }
    Ok(())
}

pub(crate) fn audit(cmd: &AuditCmd) -> Result<()> {
    match cmd {
        AuditCmd::Export { dir, out } => {
            let store = open(dir)?;
            if out.as_os_str() == "-" {
                let stdout = std::io::stdout();
                let mut w = std::io::BufWriter::new(stdout.lock());
                store.export_audit(&mut w)?;
                w.flush()?;
            } else {
                let mut w = std::io::BufWriter::new(
                    std::fs::File::create(out).with_context(|| format!("cannot create {}", out.display()))?,
                );
                store.export_audit(&mut w)?;
                w.flush()?;
                eprintln!("audit log written to {}", out.display());
            }
        }
        AuditCmd::Verify { file, receipts } => {
            let open =
                || std::fs::File::open(file).with_context(|| format!("cannot open {}", file.display()));
            let mut first = String::new();
            std::io::BufRead::read_line(&mut std::io::BufReader::new(open()?), &mut first)
                .with_context(|| format!("cannot read {}", file.display()))?;
            let is_party_view = serde_json::from_str::<serde_json::Value>(&first)
                .ok()
                .and_then(|h| h.get("format").and_then(|f| f.as_str()).map(str::to_string))
                .is_some_and(|f| f == deconflict_store::PARTY_AUDIT_FORMAT);
            let receipts = match receipts {
                Some(p) if !is_party_view => {
                    bail!(
                        "--receipts {} goes with a party's view (GET /v1/audit/export), not a whole log",
                        p.display()
                    )
                }
                Some(p) => {
                    std::fs::read_to_string(p).with_context(|| format!("cannot read {}", p.display()))?
                }
                None => String::new(),
            };
            if is_party_view {
                return match deconflict_store::verify_party_audit_with_receipts(
                    std::io::BufReader::new(open()?),
                    &receipts,
                ) {
                    Ok(r) => {
                        println!(
                            "ok: party {}'s view: {} entries in {} sub-chain(s), {}",
                            r.party,
                            r.entries,
                            r.chains.len(),
                            if r.signed {
                                "signed by a party checkpoint"
                            } else {
                                "no party checkpoint yet"
                            }
                        );
                        for c in &r.chains {
                            println!(
                                "  chain {}: {} entries, signed up to {}",
                                c.chain, c.entries, c.signed_seq
                            );
                        }
                        if r.receipts > 0 {
                            println!(
                                "  {} receipts: every acknowledged entry is in the view",
                                r.receipts
                            );
                        }
                        Ok(())
                    }
                    Err(e) => bail!("audit view does not verify: {e}"),
                };
            }
            match deconflict_store::verify_audit(std::io::BufReader::new(open()?)) {
                Ok(r) => {
                    println!(
                        "ok: {} entries in {} chain(s), {} checkpoints, {} cross-links",
                        r.entries,
                        r.chains.len(),
                        r.checkpoints,
                        r.links
                    );
                    for c in &r.chains {
                        println!(
                            "  chain {}: {} entries, last signed entry {}, head {}",
                            c.chain, c.entries, c.last_signed_seq, c.last_hash
                        );
                    }
                }
                Err(e) => bail!("audit log does not verify: {e}"),
            }
        }
    }
    Ok(())
}
