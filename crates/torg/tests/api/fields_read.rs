//! Declarations no handler reads any more. Every server the harness starts keeps what its handlers
//! read and which routes it admitted, and writes them to a file of its own in the folder
//! `TORG_FIELDS_READ` names (tests run in parallel, so no one of them sees the whole suite).
//! `scripts/test` empties that folder, runs the suite, then runs the ignored test below, which merges
//! the files and fails naming each field a reached route declares but no request of the suite read.

/// The variable naming the folder.
pub const DIR: &str = "TORG_FIELDS_READ";

/// Declarations read only on paths the suite cannot reach, or outside the readers that note reads,
/// as (`METHOD /path`, name). Keep it short, each with its reason.
const READ_WHERE_THE_SUITE_CANNOT_GO: &[(&str, &str)] = &[
    // The WebSocket gate's key: read from the raw query and handed to the gate before the request
    // has an `Input` to note it (`billing::gate::rpc`); `billing_gate` connects with it.
    ("GET /v3/gate/rpc", "token"),
    // The hosted payment page's button: its form is read raw (`billing::page::pay`, a public page
    // with no `Input`); `billing_shipments` presses `hold`.
    ("POST /pay/{container}", "mode"),
];

#[test]
#[ignore = "run by scripts/test after the suite, over the files the suite's servers wrote"]
fn every_declared_field_is_read() {
    let dir = std::env::var_os(DIR).expect("TORG_FIELDS_READ names the folder the suite wrote its reads to");
    let mut reads = torg_http::fields::Reads::default();
    let mut files = 0;
    for entry in std::fs::read_dir(&dir).expect("the folder of reads") {
        let path = entry.expect("an entry").path();
        reads.add(&std::fs::read_to_string(&path).expect("a file of reads"));
        files += 1;
    }
    assert!(
        files > 100 && reads.reached.len() > 100,
        "{files} files, {} routes: was the suite run?",
        reads.reached.len()
    );
    let stale = torg_http::fields::unread(&reads, READ_WHERE_THE_SUITE_CANNOT_GO);
    assert!(
        stale.is_empty(),
        "fields routes declare (`Route::fields`) that no handler read in the whole suite: drop the \
         declaration, or add a test that reaches the read ({} routes reached):\n{}",
        reads.reached.len(),
        stale.join("\n")
    );
}
