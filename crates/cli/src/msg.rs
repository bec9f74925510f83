//! `deconflict msg send|ack|list`: the hotline from a terminal, against a running service, as
//! one of its parties (the token from `--token-file`, `DECONFLICT_TOKEN_FILE` or
//! `DECONFLICT_TOKEN`).

use anyhow::{bail, Context, Result};
use clap::{Args, Subcommand};
use serde_json::{json, Value};
use std::path::PathBuf;

/// Where the service is and who is calling.
#[derive(Debug, Args)]
pub(crate) struct Client {
    /// The service's base URL.
    #[arg(long, env = "DECONFLICT_SERVER", default_value = "http://127.0.0.1:8080")]
    pub server: String,
    /// A file holding the party's bearer token (else `DECONFLICT_TOKEN`).
    #[arg(long, env = "DECONFLICT_TOKEN_FILE")]
    pub token_file: Option<PathBuf>,
}

impl Client {
    /// The bearer token: from the file, or the environment.
    pub(crate) fn token(&self) -> Result<String> {
        let token = match &self.token_file {
            Some(f) => std::fs::read_to_string(f)
                .with_context(|| format!("cannot read the token file {}", f.display()))?,
            None => std::env::var("DECONFLICT_TOKEN").context(
                "no token: give --token-file FILE, or set DECONFLICT_TOKEN_FILE or DECONFLICT_TOKEN",
            )?,
        };
        let token = token.trim().to_string();
        if token.is_empty() {
            bail!("the token is empty");
        }
        Ok(token)
    }

    /// Calls `method path` with a JSON body; the answer's JSON, or an error naming the status,
    /// the field and the service's message.
    fn call(&self, method: reqwest::Method, path: &str, body: Option<Value>) -> Result<Value> {
        let token = self.token()?;
        let url = format!("{}{path}", self.server.trim_end_matches('/'));
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?;
        rt.block_on(async {
            let mut req = reqwest::Client::new()
                .request(method, &url)
                .bearer_auth(token)
                .timeout(std::time::Duration::from_secs(30));
            if let Some(b) = body {
                req = req.json(&b);
            }
            let resp = req.send().await.with_context(|| format!("cannot reach {url}"))?;
            let status = resp.status();
            let text = resp.text().await?;
            let v: Value = serde_json::from_str(&text).unwrap_or(Value::String(text));
            if !status.is_success() {
                let field = v["field"].as_str().map(|f| format!(" ({f})")).unwrap_or_default();
                let msg = v["error"]
                    .as_str()
                    .map(str::to_string)
                    .unwrap_or_else(|| v.to_string());
                bail!("{}{field}: {msg}", status.as_u16());
            }
            Ok(v)
        })
    }
}

#[derive(Debug, Subcommand)]
pub(crate) enum MsgCmd {
    /// Send a message: to named parties, a coalition (through its lead), or the other side of
    /// one of your conflicts.
    Send(SendArgs),
    /// Acknowledge a message you received.
    Ack {
        /// The message's id (`m-…`).
        id: String,
        #[command(flatten)]
        client: Client,
    },
    /// Your mailbox: what you sent and received, oldest first.
    List {
        /// Only items after this mailbox sequence number.
        #[arg(long, default_value_t = 0)]
        after: u64,
        /// One JSON object per line instead of one line of text per item.
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        client: Client,
    },
}

#[derive(Debug, Args)]
pub(crate) struct SendArgs {
    /// A party to send to (repeatable).
    #[arg(long = "to-party", value_name = "NAME")]
    to_party: Vec<String>,
    /// A coalition, by its lead's name: the lead passes the message on to every member.
    #[arg(long = "to-coalition", value_name = "LEAD", conflicts_with_all = ["to_party", "to_conflict"])]
    to_coalition: Option<String>,
    /// The other side of one of your conflicts, by its id (it is not named to you).
    #[arg(long = "to-conflict", value_name = "ID", conflicts_with = "to_party")]
    to_conflict: Option<String>,
    /// notice, request, reply, emergency or text.
    #[arg(long, default_value = "text")]
    kind: String,
    /// The text; `-` reads it from standard input.
    #[arg(long)]
    text: String,
    /// A file holding a JSON array of Volume4D: a notice's planned operation.
    #[arg(long)]
    extents: Option<PathBuf>,
    /// The id of the message this answers (without a recipient, the reply goes back the way
    /// it came).
    #[arg(long)]
    reply_to: Option<String>,
    #[command(flatten)]
    client: Client,
}

fn send(a: &SendArgs) -> Result<Value> {
    let text = if a.text == "-" {
        std::io::read_to_string(std::io::stdin()).context("reading the text from standard input")?
    } else {
        a.text.clone()
    };
    let mut body = json!({"kind": a.kind, "text": text.trim_end_matches('\n')});
    if !a.to_party.is_empty() {
        body["to"] = json!({"parties": a.to_party});
    } else if let Some(c) = &a.to_coalition {
        body["to"] = json!({"coalition": c});
    } else if let Some(c) = &a.to_conflict {
        body["to"] = json!({"conflict": c});
    } else if a.reply_to.is_none() {
        bail!("whom to? give --to-party, --to-coalition or --to-conflict (or --reply-to)");
    }
    if let Some(f) = &a.extents {
        let text = std::fs::read_to_string(f).with_context(|| format!("cannot read {}", f.display()))?;
        body["extents"] =
            serde_json::from_str(&text).with_context(|| format!("{} is not JSON", f.display()))?;
    }
    if let Some(r) = &a.reply_to {
        body["reply_to"] = json!(r);
    }
    a.client.call(reqwest::Method::POST, "/v1/messages", Some(body))
}

/// One line of text for a mailbox item.
fn line(i: &Value) -> String {
    let who = |v: &Value| -> String {
        if let Some(p) = v["party"].as_str() {
            p.to_string()
        } else if let Some(c) = v["conflict"].as_str() {
            format!("other side of {c}")
        } else if let Some(c) = v["coalition"].as_str() {
            format!("coalition {c}")
        } else if let Some(p) = v["parties"].as_array() {
            p.iter().filter_map(Value::as_str).collect::<Vec<_>>().join(",")
        } else {
            v.to_string()
        }
    };
    let status = if i["direction"] == "in" {
        let via = i["via"].as_str().map(|v| format!(" via {v}")).unwrap_or_default();
        let state = if i["acked_at"].is_string() {
            "acked"
        } else if i["escalated_at"].is_string() {
            "ESCALATED"
        } else {
            "OPEN"
        };
        format!("from {}{via} [{state}]", who(&i["from"]))
    } else {
        let r = i["recipients"].as_array().cloned().unwrap_or_default();
        let acked = r.iter().filter(|x| x["acked_at"].is_string()).count();
        format!("to {} [acked {acked}/{}]", who(&i["to"]), r.len())
    };
    format!(
        "{:>5} {} {:<9} {} {}  {}",
        i["seq"],
        i["sent_at"].as_str().unwrap_or(""),
        i["kind"].as_str().unwrap_or(""),
        i["id"].as_str().unwrap_or(""),
        status,
        i["text"].as_str().unwrap_or("").replace('\n', " / ")
    )
}

pub(crate) fn run(cmd: &MsgCmd) -> Result<()> {
    match cmd {
        MsgCmd::Send(a) => {
            let v = send(a)?;
            println!("{}", v["id"].as_str().unwrap_or_default());
            eprintln!(
                "sent at {} (mailbox seq {})",
                v["sent_at"].as_str().unwrap_or(""),
                v["seq"]
            );
        }
        MsgCmd::Ack { id, client } => {
            let v = client.call(reqwest::Method::POST, &format!("/v1/messages/{id}/ack"), None)?;
            let again = if v["first"] == false { " (before)" } else { "" };
            println!("acknowledged at {}{again}", v["acked_at"].as_str().unwrap_or(""));
        }
        MsgCmd::List { after, json, client } => {
            let v = client.call(reqwest::Method::GET, &format!("/v1/messages?after={after}"), None)?;
            for i in v.as_array().into_iter().flatten() {
                if *json {
                    println!("{i}");
                } else {
                    println!("{}", line(i));
                }
            }
        }
    }
    Ok(())
}
