//! heartbeat's benchmark (issues 4 and 13): what heartbeat costs next to a plain axum handler.
//!
//! ```text
//! cargo run --release -p heartbeat-bench                  # every section, about 2 minutes
//! cargo run --release -p heartbeat-bench -- instructions  # one section (or several, by name)
//! ```
//!
//! prints one markdown table, with the machine and the date. The sections:
//!
//! - `overhead`, `wire`: readiness with no checks vs a plain handler answering the same bytes,
//!   in-process and over loopback (req/s); `concurrency`, `storm`, `scale`: checks run
//!   concurrently, single flight and the cache, cost per check; `memory`: a child server's
//!   peak RSS under load.
//! - `instructions`: CPU instructions per request counted under callgrind, which repeat to
//!   within about 1% where req/s on a shared machine moves by ±10% (plain handler, readiness
//!   with none / one / 100 cached checks, environ, `/health/` with none / 100 cached checks
//!   and the cost of one more, one async and one sync check with cache 0). It needs valgrind
//!   (Debian: `apt-get install -y valgrind`); without it the section says "not measured".
//!   See [`instructions`] for how the counts are taken.
//! - `crowd`: readiness with 1,000 trivial sync checks under 2,000 connections: the share of
//!   200 answers and the server's peak RSS (issue 13, defect 9), next to a plain handler's,
//!   served with `into_make_service()` and as `axum::serve(listener, router)`.
//! - `background`: readiness with 1,000 background checks and with 1,000 cached ones under
//!   the same load: latency (issue 14).
//! - `fanout`: one status change sent to 1,000 open `?watch` streams: instructions under
//!   callgrind and wall time (issue 15).
//! - `grpc`: instructions per gRPC `Check("")` call under callgrind, heartbeat's health
//!   service next to tonic-health's `HealthReporter` server in the same child (issue 16).
//! - `scrape`: the metrics of 100 checks next to their `/health/`, in wall time, with no
//!   check changed and right after every one changed (issue 15).
//!
//! The loaded figures use `wrk` (`apt-get install -y wrk`); without it they fall back to a
//! built-in HTTP/1.1 client and say so. Servers bind 127.0.0.1 only, and every loop is
//! bounded in time and count.
//!
//! `heartbeat-bench serve KIND PORT` is the child server of the memory, instructions, crowd and
//! background figures (the kinds are listed in `serve.rs`): the bench starts it itself.

mod background;
mod child;
mod crowd;
mod fanout;
mod grpc;
mod instructions;
mod load;
mod machine;
mod measure;
mod scrape;
mod serve;

use std::future::Future;
use std::io::Write;
use std::process::ExitCode;
use std::time::Instant;

use load::Loader;

/// Any error, with its message.
type BenchResult<T> = Result<T, Box<dyn std::error::Error + Send + Sync>>;

/// Whether a figure met its goal.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Met {
    Yes,
    No,
    /// A figure without a goal.
    Info,
    /// The figure could not be measured.
    Failed,
    /// A tool the figure needs is missing: no number, and no pretence of one.
    NotMeasured,
}

impl From<bool> for Met {
    fn from(met: bool) -> Self {
        if met { Met::Yes } else { Met::No }
    }
}

impl Met {
    fn label(self) -> &'static str {
        match self {
            Met::Yes => "yes",
            Met::No => "**NO**",
            Met::Info => "—",
            Met::Failed => "**failed**",
            Met::NotMeasured => "not measured",
        }
    }
}

/// One line of the table.
struct Row {
    figure: String,
    heartbeat: String,
    plain: String,
    goal: String,
    met: Met,
}

impl Row {
    fn new(figure: String, heartbeat: String, plain: String, goal: String, met: Met) -> Self {
        Row {
            figure,
            heartbeat,
            plain,
            goal,
            met,
        }
    }
}

/// `1234567` as `1,234,567`.
fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, digit) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(digit);
    }
    out
}

/// The runtime of the bench and of its child servers: tokio's default multi-thread one.
fn runtime() -> BenchResult<tokio::runtime::Runtime> {
    Ok(tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?)
}

/// The sections, in the order a full run measures them.
const SECTIONS: [&str; 12] = [
    "overhead",
    "scale",
    "concurrency",
    "wire",
    "storm",
    "memory",
    "instructions",
    "crowd",
    "background",
    "fanout",
    "grpc",
    "scrape",
];

const USAGE: &str =
    "usage: heartbeat-bench [SECTION…]     run these sections (default: all) and print the table
         sections: overhead scale concurrency wire storm memory instructions crowd background
                   fanout grpc scrape
       heartbeat-bench serve KIND PORT
                                     serve a section's child server on 127.0.0.1:PORT (0: any)
                                     until stdin closes (the bench starts it itself)";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let result = match args[..] {
        [] => bench(&SECTIONS),
        ["serve", kind, port] => serve::child(kind, port),
        ["-h" | "--help"] => {
            println!("{USAGE}");
            Ok(())
        }
        _ if args.iter().all(|arg| SECTIONS.contains(arg)) => bench(&args),
        _ => Err(USAGE.into()),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("heartbeat-bench: {error}");
            ExitCode::FAILURE
        }
    }
}

/// Runs one section, logging progress on stderr; a failure becomes a row, not an abort.
async fn section<F>(rows: &mut Vec<Row>, name: &str, started: Instant, run: F)
where
    F: Future<Output = BenchResult<Vec<Row>>>,
{
    eprintln!("[{:>5.1} s] {name}…", started.elapsed().as_secs_f64());
    match run.await {
        Ok(mut new) => rows.append(&mut new),
        Err(error) => rows.push(Row::new(
            name.to_owned(),
            format!("error: {error}"),
            "—".to_owned(),
            "—".to_owned(),
            Met::Failed,
        )),
    }
}

fn bench(selected: &[&str]) -> BenchResult<()> {
    let started = Instant::now();
    let date = machine::utc_now();
    let machine_before = machine::describe();
    let loader = Loader::detect();
    let wants = |section: &str| selected.contains(&section);
    eprintln!(
        "heartbeat-bench: {}; progress on stderr, the table on stdout",
        if selected.len() == SECTIONS.len() {
            "about 2 minutes"
        } else {
            "selected sections only"
        }
    );
    if loader == Loader::BuiltIn {
        eprintln!(
            "heartbeat-bench: WARNING: wrk is missing (Debian: `apt-get install -y wrk`); \
             the loaded figures use the built-in client instead"
        );
    }
    let rows = runtime()?.block_on(async {
        let mut rows = Vec::new();
        let rows_ = &mut rows;
        if wants("overhead") {
            section(
                rows_,
                "1a. overhead in-process",
                started,
                measure::overhead_in_process(),
            )
            .await;
        }
        if wants("scale") {
            section(rows_, "4. scale", started, measure::scale()).await;
        }
        if wants("concurrency") {
            section(rows_, "2. concurrency", started, measure::concurrency()).await;
        }
        if wants("wire") {
            section(
                rows_,
                "1b. overhead end-to-end",
                started,
                measure::overhead_end_to_end(loader),
            )
            .await;
        }
        if wants("storm") {
            section(rows_, "3. storm", started, measure::storm(loader)).await;
        }
        if wants("memory") {
            section(rows_, "5. memory", started, measure::memory(loader)).await;
        }
        if wants("instructions") {
            section(
                rows_,
                "6. instructions (callgrind)",
                started,
                instructions::instructions(),
            )
            .await;
        }
        if wants("crowd") {
            section(rows_, "7. crowd", started, crowd::crowd(loader)).await;
        }
        if wants("background") {
            section(
                rows_,
                "8. background",
                started,
                background::background(loader),
            )
            .await;
        }
        if wants("fanout") {
            section(rows_, "9. fan-out", started, fanout::fanout()).await;
        }
        if wants("grpc") {
            section(rows_, "10. gRPC Check (callgrind)", started, grpc::grpc()).await;
        }
        if wants("scrape") {
            section(rows_, "11. scrape", started, scrape::scrape()).await;
        }
        rows
    });
    let elapsed = started.elapsed();

    let mut out = std::io::stdout().lock();
    writeln!(out)?;
    writeln!(out, "## heartbeat-bench ({date})")?;
    writeln!(out)?;
    writeln!(out, "machine: {machine_before}")?;
    writeln!(
        out,
        "load average after the run: {}",
        machine::load_average()
    )?;
    match loader {
        Loader::Wrk => writeln!(out, "load generator: wrk")?,
        Loader::BuiltIn => writeln!(
            out,
            "load generator: built-in client (**wrk is missing**: `apt-get install -y wrk`)"
        )?,
    }
    if wants("instructions") || wants("grpc") {
        writeln!(out, "{}", instructions::describe())?;
    }
    writeln!(
        out,
        "heartbeat {}, release build: {}, took {:.0} s",
        env!("CARGO_PKG_VERSION"),
        !cfg!(debug_assertions),
        elapsed.as_secs_f64()
    )?;
    writeln!(out)?;
    writeln!(
        out,
        "| figure | heartbeat | plain axum | ratio / goal | met? |"
    )?;
    writeln!(out, "|---|---|---|---|---|")?;
    for row in &rows {
        writeln!(
            out,
            "| {} | {} | {} | {} | {} |",
            row.figure.replace('|', "\\|"),
            row.heartbeat.replace('|', "\\|"),
            row.plain.replace('|', "\\|"),
            row.goal.replace('|', "\\|"),
            row.met.label()
        )?;
    }
    out.flush()?;
    Ok(())
}
