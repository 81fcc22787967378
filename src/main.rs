//! The `pipestack` binary: parse the command line, open the store, and serve or administer.

use std::sync::Arc;

use anyhow::{Context, Result, bail};
use clap::Parser;
use pipestack::AppState;
use pipestack::api::Options;
use pipestack::api::admin::{self, fixtures::Fixtures};
use pipestack::api::rate_limit::{RateLimiter, RateLimits, SystemClock};
use pipestack::config::{
    Cli, Command, CompaniesCommand, ImportArgs, OnOff, ServeArgs, UsersCommand,
};
use pipestack::domain::user::token_digest;
use pipestack::setup::{self, Bootstrap};
use pipestack::store::{self, Store};
use pipestack::webhooks;
use tracing_subscriber::EnvFilter;

/// JSON in and out is allocation-heavy; mimalloc measured faster than the system allocator
/// (GET by id 1.2x side by side, measured again for issue 18). Built without transparent huge
/// pages (`no_thp`): with them every 2 MB region it touched stayed whole in memory, 12 MB more
/// at rest and ~20 MB more at a million persons, for no speed measured.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Runs the command; an error is printed as one line saying what went wrong (with its causes),
/// never as a backtrace, whatever `RUST_BACKTRACE` says, and the exit status is 1.
fn main() -> std::process::ExitCode {
    // First, while this is the only thread.
    store::sqlite::prepare();
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("pipestack: cannot start: {e}");
            return std::process::ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run()) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("pipestack: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}

async fn run() -> Result<()> {
    let filter =
        EnvFilter::try_from_env("PIPESTACK_LOG").unwrap_or_else(|_| EnvFilter::new("info"));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .init();
    let cli = Cli::parse();
    match cli.command {
        Command::Serve(args) => {
            let url = if args.memory {
                "sqlite::memory:"
            } else {
                cli.database.as_str()
            };
            let store = open(url).await?;
            serve(store, args).await
        }
        Command::Migrate { from, to } => {
            let bar = indicatif::ProgressBar::new_spinner();
            let counts = pipestack::migrate::migrate(&from, &to, &|table, done, total| {
                bar.set_message(format!("{table}: {done}/{total} rows"));
                bar.tick();
            })
            .await?;
            bar.finish_and_clear();
            for (table, n) in counts {
                println!("{table}: {n} rows copied and verified");
            }
            Ok(())
        }
        Command::Import(args) => {
            let store = store::open_for_bulk(&cli.database)
                .await
                .with_context(|| format!("cannot open the database {}", cli.database))?;
            import(store, args).await
        }
        command => admin(open(&cli.database).await?, command).await,
    }
}

async fn open(url: &str) -> Result<Arc<dyn Store>> {
    store::open(url)
        .await
        .with_context(|| format!("cannot open the database {url}"))
}

async fn serve(store: Arc<dyn Store>, args: ServeArgs) -> Result<()> {
    let listen = args.listen.clone();
    let memory = args.memory;
    let admin_api = args.admin_api;
    let rate_limiter = match args.rate_limits.as_str() {
        "off" => None,
        arg => {
            let limits = RateLimits::from_arg(arg).map_err(anyhow::Error::msg)?;
            Some(RateLimiter::new(limits, Arc::new(SystemClock)))
        }
    };
    let fixtures = match &args.fixtures {
        Some(path) => Some(Arc::new(Fixtures::load(path).map_err(anyhow::Error::msg)?)),
        None => None,
    };
    let admin = args.admin_api.then(|| admin::Config {
        journal_size: args.journal_size,
        fixtures: fixtures.clone(),
    });
    let state = AppState::with_options(
        store.clone(),
        Options {
            admin,
            limits: args.limits.to_limits(),
            rate_limiter,
            webhooks: webhooks::Config {
                retry_delays: webhooks::Config::parse_delays(&args.webhook_retry_delays)
                    .map_err(anyhow::Error::msg)?,
                allow: webhooks::Allow::parse(&args.webhook_allow).map_err(anyhow::Error::msg)?,
                ..webhooks::Config::default()
            },
        },
    );
    let boot = setup::bootstrap(store.as_ref(), args.api_token.as_deref()).await?;
    if let (Some(f), Bootstrap::Created { admin, .. }) = (&fixtures, &boot) {
        let session = store
            .session_by_digest(&token_digest(&admin.api_token))
            .await?
            .context("the new admin's token opens no session")?;
        f.apply(&store, &session).await.map_err(|e| {
            let fix = if memory {
                ""
            } else {
                "; the new database holds the company without them: fix the file, then delete \
                 the database (or reset it with --admin-api's POST /_pipestack/reset)"
            };
            anyhow::anyhow!("{e}{fix}")
        })?;
        println!("pipestack: fixtures from {} applied", f.file);
    }
    if let Some(open_files) = pipestack::server::raise_open_files_limit() {
        tracing::info!(open_files, "open files limit");
    }
    let listener = match tokio::net::TcpListener::bind(listen.as_str()).await {
        Ok(listener) => listener,
        Err(e) if e.kind() == std::io::ErrorKind::AddrInUse => {
            bail!(
                "cannot listen on {listen}: the address is in use (choose another with --listen PORT)"
            )
        }
        Err(e) => return Err(e).with_context(|| format!("cannot listen on {listen}")),
    };
    let base = format!("http://{}", listener.local_addr()?);
    let shutdown = shutdown_signal()?;
    match &boot {
        Bootstrap::Created { company, admin } => {
            println!(
                "pipestack: new database: created company {:?} (id {}) and its admin user (id {})",
                company.name, company.id, admin.user.id
            );
            println!("  API token: {}", admin.api_token);
            if memory {
                println!(
                    "  (printed once: the store is in this process's memory, which no other \
                     command reaches; --api-token fixes the token)"
                );
            } else {
                println!(
                    "  (printed once: only its digest is stored; `pipestack users token {}` makes a new one)",
                    admin.user.id
                );
            }
        }
        Bootstrap::Existing { company, admin, .. } => {
            println!(
                "pipestack: company {:?} (id {}); `pipestack users token {}` gives its admin a new API token",
                company.name, company.id, admin.id
            );
        }
    }
    if admin_api {
        println!("  admin API for tests: {base}/_pipestack/ (an admin's token)");
    }
    // The last line printed: scripts and tests wait for it, then may stop reading stdout.
    println!("  base URL: {base}/v1 (legacy) and {base}/api/v2");
    tracing::info!(%base, "listening");
    pipestack::serve_state(listener, state, shutdown).await?;
    tracing::info!("stopped");
    Ok(())
}

/// `pipestack import`: prints a warning for each column ignored, each rejected row with its
/// line, and the counts; the exit status is 0 when every row was imported, 1 when none was
/// (the error says so), and 2 when some were rejected.
async fn import(store: Arc<dyn Store>, args: ImportArgs) -> Result<()> {
    use pipestack::import::{self as loader, Format, Items, Options, Progress};
    let format = match args.format.as_deref() {
        Some("csv") => Format::Csv,
        Some("jsonl") | Some("ndjson") => Format::JsonLines,
        Some(other) => bail!("unknown format {other:?}: use csv or jsonl"),
        None => Format::from_path(&args.file).with_context(|| {
            format!(
                "cannot tell the format of {}: use --format csv|jsonl",
                args.file
            )
        })?,
    };
    if args.batch == 0 {
        bail!("--batch must be at least 1");
    }
    let items = Items::from_name(&args.items).with_context(|| {
        format!(
            "unknown --items {:?}: use persons, deals, activities or notes",
            args.items
        )
    })?;
    if args.create_organizations && items != Items::Persons {
        bail!("--create-organizations is for persons (--items persons)");
    }
    let company = company_id(store.as_ref(), args.company.company).await?;
    let company = store.company(company).await?.context("company not found")?;
    let admin = store
        .users(company.id)
        .await?
        .iter()
        .find(|u| u.is_admin && u.active)
        .cloned()
        .context("the company has no active admin user")?;
    let session = pipestack::domain::Session {
        company,
        user: admin,
        source: Default::default(),
    };
    let file =
        std::fs::File::open(&args.file).with_context(|| format!("cannot open {}", args.file))?;
    let size = file.metadata().map(|m| m.len()).ok();
    let bytes = Arc::new(std::sync::atomic::AtomicU64::new(0));
    let reader = std::io::BufReader::with_capacity(
        256 * 1024,
        CountedReader {
            inner: file,
            bytes: bytes.clone(),
        },
    );
    let done = Arc::new(std::sync::Mutex::new(Progress::default()));
    let bar = ImportBar::start(args.quiet, size, bytes, done.clone());
    let started = std::time::Instant::now();
    let options = Options {
        format,
        items,
        batch_size: args.batch,
        create_organizations: args.create_organizations,
    };
    let summary = loader::import(&store, &session, Box::new(reader), options, &|p| {
        *done
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = p;
    })
    .await;
    bar.finish();
    let summary = summary?;
    for warning in &summary.warnings {
        println!("warning: {warning}");
    }
    for (line, reason) in &summary.rejected {
        println!("rejected line {line}: {reason}");
    }
    if summary.created_organizations > 0 {
        let n = summary.created_organizations;
        println!(
            "created {n} {}",
            if n == 1 {
                "organization"
            } else {
                "organizations"
            }
        );
    }
    let rejected = summary.rejected.len();
    println!(
        "imported {}, rejected {} {}, in {:.1} s",
        items.count(summary.accepted),
        rejected,
        if rejected == 1 { "row" } else { "rows" },
        started.elapsed().as_secs_f64()
    );
    if rejected == 0 {
        return Ok(());
    }
    if summary.accepted == 0 {
        bail!("no row of {} was imported", args.file);
    }
    eprintln!(
        "pipestack: {rejected} {} of {} rejected (exit status 2)",
        if rejected == 1 { "row" } else { "rows" },
        args.file
    );
    // Every batch is committed: close the store, then say "some rejected" with status 2.
    use std::io::Write as _;
    let _ = std::io::stdout().flush();
    drop(store);
    std::process::exit(2)
}

/// `1234567` as `1,234,567`.
fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, d) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(d);
    }
    out
}

/// A reader that counts the bytes read through it (`import`'s progress by bytes).
struct CountedReader<R> {
    inner: R,
    bytes: Arc<std::sync::atomic::AtomicU64>,
}

impl<R: std::io::Read> std::io::Read for CountedReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.bytes
            .fetch_add(n as u64, std::sync::atomic::Ordering::Relaxed);
        Ok(n)
    }
}

/// `import`'s progress bar on stderr: the file's bytes read, their rate and the time left, and
/// rows read and imported. A thread of its own redraws it ten times a second, so it keeps
/// moving (and says so) while a batch is being written. None with `--quiet` or when stderr is
/// not a terminal.
struct ImportBar {
    bar: indicatif::ProgressBar,
    stop: Arc<std::sync::atomic::AtomicBool>,
    ticker: Option<std::thread::JoinHandle<()>>,
}

impl ImportBar {
    fn start(
        quiet: bool,
        size: Option<u64>,
        bytes: Arc<std::sync::atomic::AtomicU64>,
        done: Arc<std::sync::Mutex<pipestack::import::Progress>>,
    ) -> Self {
        use std::sync::atomic::Ordering;
        let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
        if quiet || !std::io::IsTerminal::is_terminal(&std::io::stderr()) {
            return Self {
                bar: indicatif::ProgressBar::hidden(),
                stop,
                ticker: None,
            };
        }
        // The bytes on the first line, the rows on the second.
        let template = match size {
            Some(n) if n > 0 => {
                "{spinner} {elapsed_precise} [{wide_bar}] {binary_bytes}/{binary_total_bytes} \
                 {binary_bytes_per_sec} ETA {eta}\n  {wide_msg}"
            }
            _ => "{spinner} {elapsed_precise} {binary_bytes} {binary_bytes_per_sec}\n  {wide_msg}",
        };
        let bar = indicatif::ProgressBar::with_draw_target(
            size.filter(|n| *n > 0),
            indicatif::ProgressDrawTarget::stderr(),
        );
        bar.set_style(
            indicatif::ProgressStyle::with_template(template)
                .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar())
                .progress_chars("=> "),
        );
        let ticker = {
            let (bar, stop) = (bar.clone(), stop.clone());
            let started = std::time::Instant::now();
            std::thread::spawn(move || {
                while !stop.load(Ordering::Relaxed) {
                    let p = *done
                        .lock()
                        .unwrap_or_else(std::sync::PoisonError::into_inner);
                    let rate = p.read as f64 / started.elapsed().as_secs_f64().max(0.001);
                    bar.set_position(bytes.load(Ordering::Relaxed));
                    bar.set_message(format!(
                        "{} rows read ({}/s), {} imported{}",
                        thousands(p.read),
                        thousands(rate as u64),
                        thousands(p.imported),
                        if p.waiting {
                            ", writing a batch…"
                        } else {
                            ""
                        }
                    ));
                    bar.tick();
                    std::thread::sleep(std::time::Duration::from_millis(100));
                }
            })
        };
        Self {
            bar,
            stop,
            ticker: Some(ticker),
        }
    }

    fn finish(mut self) {
        self.stop.store(true, std::sync::atomic::Ordering::Relaxed);
        if let Some(ticker) = self.ticker.take() {
            let _ = ticker.join();
        }
        self.bar.finish_and_clear();
    }
}

/// Installs the SIGINT and SIGTERM handlers at once, so that a signal arriving any time after
/// the base URL is announced stops the server gracefully instead of killing it; the returned
/// future resolves on the first of them.
#[cfg(unix)]
fn shutdown_signal() -> Result<impl Future<Output = ()> + Send + 'static> {
    use tokio::signal::unix::{SignalKind, signal};
    let mut interrupt = signal(SignalKind::interrupt()).context("cannot handle SIGINT")?;
    let mut terminate = signal(SignalKind::terminate()).context("cannot handle SIGTERM")?;
    Ok(async move {
        tokio::select! {
            _ = interrupt.recv() => {},
            _ = terminate.recv() => {},
        }
        tracing::info!("shutting down: finishing requests in flight");
    })
}

#[cfg(not(unix))]
fn shutdown_signal() -> Result<impl Future<Output = ()> + Send + 'static> {
    Ok(async {
        let _ = tokio::signal::ctrl_c().await;
        tracing::info!("shutting down: finishing requests in flight");
    })
}

async fn admin(store: Arc<dyn Store>, command: Command) -> Result<()> {
    let store = store.as_ref();
    match command {
        Command::Serve(_) | Command::Import(_) | Command::Migrate { .. } => {
            bail!("serve and import are not administration commands")
        }
        Command::Users(UsersCommand::Add {
            name,
            email,
            company,
        }) => {
            let company = company_id(store, company.company).await?;
            let issued = setup::add_user(store, company, &name, &email).await?;
            println!(
                "added user {} ({}) to company {}",
                issued.user.id, issued.user.email, company
            );
            println!("API token: {}", issued.api_token);
            println!("(printed once: only its digest is stored)");
        }
        Command::Users(UsersCommand::Deactivate { id }) => {
            if !store.set_user_active(id, false).await? {
                bail!("user {id} not found");
            }
            println!("user {id} deactivated: its API token no longer works");
        }
        Command::Users(UsersCommand::Token { id }) => {
            let token = setup::new_token(store, id).await?;
            println!("user {id}: new API token (the old one no longer works): {token}");
            println!("(printed once: only its digest is stored)");
        }
        Command::Users(UsersCommand::Activate { id }) => {
            if !store.set_user_active(id, true).await? {
                bail!("user {id} not found");
            }
            println!("user {id} activated");
        }
        Command::Tokens(company) => {
            let companies = match company.company {
                Some(id) => vec![id],
                None => store.companies().await?.iter().map(|c| c.id).collect(),
            };
            println!("company\tuser\tadmin\tactive\temail");
            for c in companies {
                for u in store.users(c).await?.iter() {
                    println!("{}\t{}\t{}\t{}\t{}", c, u.id, u.is_admin, u.active, u.email);
                }
            }
            println!(
                "API tokens are shown once, when made, and stored only as digests: \
                 `pipestack users token ID` gives a user a new one."
            );
        }
        Command::Companies(CompaniesCommand::List) => {
            println!("id\tcampaigns\tdomain\tname");
            for c in store.companies().await? {
                let campaigns = if c.campaigns_enabled { "on" } else { "off" };
                println!("{}\t{}\t{}\t{}", c.id, campaigns, c.domain, c.name);
            }
        }
        Command::Companies(CompaniesCommand::Add { name }) => {
            let (company, admin) = setup::add_company(store, &name, None).await?;
            println!(
                "added company {:?} (id {}) with admin user {}",
                company.name, company.id, admin.user.id
            );
            println!("API token: {}", admin.api_token);
            println!("(printed once: only its digest is stored)");
        }
        Command::Companies(CompaniesCommand::Profile {
            country,
            industry,
            company,
        }) => {
            let id = company_id(store, company.company).await?;
            let current = store
                .company(id)
                .await?
                .with_context(|| format!("company {id} not found"))?;
            let country = country.unwrap_or(current.country);
            let industry = industry.unwrap_or(current.industry);
            store.set_company_profile(id, &country, &industry).await?;
            println!("company {id}: country {country:?}, industry {industry:?}");
        }
        Command::Companies(CompaniesCommand::Campaigns { state, company }) => {
            let id = company_id(store, company.company).await?;
            let on = matches!(state, OnOff::On);
            if !store.set_campaigns(id, on).await? {
                bail!("company {id} not found");
            }
            println!("company {id}: Campaigns {}", if on { "on" } else { "off" });
        }
    }
    Ok(())
}

async fn company_id(store: &dyn Store, given: Option<i64>) -> Result<i64> {
    if let Some(id) = given {
        return Ok(id);
    }
    match store.companies().await?.first() {
        Some(c) => Ok(c.id),
        None => bail!(
            "the database has no company yet: run `pipestack serve` once, or `pipestack companies add NAME`"
        ),
    }
}
