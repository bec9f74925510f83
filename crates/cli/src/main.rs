//! The `deconflict` command-line tool.

mod bands;
mod bench;
mod bench_advice;
mod bench_attack;
mod bench_cluster;
mod bench_feeds;
mod bench_http;
mod bench_strategic;
mod common;
mod demo;
mod demo_script;
mod detect;
mod feed;
mod input;
mod msg;
mod replay;
mod replay_do365;
mod service;

use anyhow::Result;
use clap::{Parser, Subcommand};

/// deconflict: keeps the aircraft and drones of parties who share a contested airspace apart,
/// without making them share their plans.
#[derive(Debug, Parser)]
#[command(name = "deconflict", version, about, long_about = None)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// The Latakia 2015 scenario live: the service on SQLite, its parties, their filings,
    /// their tracks and hotline traffic.
    Demo(demo::DemoArgs),
    /// Treat a file of track reports as one snapshot and print every conflicting pair.
    Detect(detect::DetectArgs),
    /// Run a recorded or scripted file through time; write its conflict episodes.
    Replay(replay::ReplayArgs),
    /// DAIDALUS-style bands and resolution for the ownship of a .daa file, one JSON line per step.
    Bands(bands::BandsArgs),
    /// Measure the detector on synthetic traffic against brute force.
    Bench(bench::BenchArgs),
    /// Print the built-in separation table (TOML), a starting point for --table.
    Standards,
    /// Run the HTTP service (SQLite under --data-dir; nothing else to install).
    Serve(service::ServeArgs),
    /// Register and list parties.
    #[command(subcommand)]
    Party(service::PartyCmd),
    /// Issue and revoke bearer tokens.
    #[command(subcommand)]
    Token(service::TokenCmd),
    /// Export and verify the tamper-evident audit log.
    #[command(subcommand)]
    Audit(service::AuditCmd),
    /// The hotline: send, acknowledge and list messages, as a party of a running service.
    #[command(subcommand)]
    Msg(msg::MsgCmd),
    /// Bridge a feed (SBS-1, Cursor-on-Target) into a running service with a party's token.
    #[command(subcommand)]
    Feed(feed::FeedCmd),
}

fn main() {
    // Before any thread starts: keep large freed blocks from staying in malloc's arenas.
    deconflict_malloc::pin_mmap_threshold();
    let cli = Cli::parse();
    let result: Result<()> = match &cli.command {
        Command::Demo(a) => demo::run(a),
        Command::Detect(a) => detect::run(a),
        Command::Replay(a) => replay::run(a).map(|_| ()),
        Command::Bands(a) => bands::run(a),
        Command::Bench(a) => bench::run(a),
        Command::Serve(a) => service::serve(a),
        Command::Party(c) => service::party(c),
        Command::Token(c) => service::token(c),
        Command::Audit(c) => service::audit(c),
        Command::Msg(c) => msg::run(c),
        Command::Feed(c) => feed::run(c),
        Command::Standards => {
            print!("{}", deconflict_core::separation::DEFAULT_TOML);
            Ok(())
        }
    };
    if let Err(e) = result {
        eprintln!("error: {e:#}");
        std::process::exit(2);
    }
}
