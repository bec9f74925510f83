//! What the server's in-process tests share: a service's state on a fresh SQLite data dir
//! with the parties a test names, and their tokens.

use deconflict_server::{build_state, AppState, Config};
use deconflict_store::Role;
use std::sync::Arc;

/// The state of a service on a fresh data dir (kept while the `TempDir` lives), its config
/// changed by `tweak`, with `parties` (name, coalition, role) added.
pub(crate) fn state(
    tweak: impl FnOnce(&mut Config),
    parties: &[(&str, Option<&str>, Role)],
) -> (Arc<AppState>, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let mut config = Config {
        data_dir: dir.path().to_path_buf(),
        listen: "127.0.0.1:0".parse().unwrap(),
        ..Default::default()
    };
    tweak(&mut config);
    let state = build_state(config).unwrap();
    let now = deconflict_server::unix_now();
    for &(name, member_of, role) in parties {
        state.store.add_party(name, member_of, role, now).unwrap();
    }
    (state, dir)
}

/// A new token of `party`.
pub(crate) fn token(state: &AppState, party: &str) -> String {
    state
        .store
        .issue_token(party, deconflict_server::unix_now())
        .unwrap()
}
