//! The command line: `pipestack serve | users | tokens | companies`, each option also readable
//! from a `PIPESTACK_*` environment variable.

use std::time::Duration;

use crate::api::limits::Limits;

use clap::builder::TypedValueParser;
use clap::{Args, Parser, Subcommand, ValueEnum};

#[derive(Debug, Parser)]
#[command(
    name = "pipestack",
    version,
    about = "A durable server that speaks Pipedrive's persons API"
)]
pub struct Cli {
    /// Where data lives: sqlite://FILE (created on first start).
    #[arg(
        long,
        global = true,
        env = "PIPESTACK_DATABASE",
        default_value = "sqlite://pipestack.db"
    )]
    pub database: String,

    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the HTTP server until SIGINT or SIGTERM.
    Serve(ServeArgs),
    /// Manage users of a company.
    #[command(subcommand)]
    Users(UsersCommand),
    /// List every user (API tokens are shown only when made: `users token ID` makes a new one).
    Tokens(CompanyArg),
    /// Manage companies (tenants).
    #[command(subcommand)]
    Companies(CompaniesCommand),
    /// Copy a whole SQLite store into an empty PostgreSQL database (ids kept), then verify it.
    Migrate {
        /// The source: sqlite://FILE.
        #[arg(long)]
        from: String,
        /// The destination: postgres://… (an empty database).
        #[arg(long)]
        to: String,
    },
    /// Load persons (or deals, activities, notes) from a CSV file (a spreadsheet's or
    /// Pipedrive's export: human headers) or JSON-lines file, with the API's validation, in
    /// large transactions.
    Import(ImportArgs),
}

#[derive(Debug, Args)]
#[command(
    after_help = "A persons CSV may be a spreadsheet's or Pipedrive's own export: headers \
are matched case-insensitively, by v1 key or by Pipedrive's labels (Name, Email - Work, \
Phone - Mobile, Organization, Owner, Label, Visible to, Marketing status, a custom field's \
name); owners, labels, organizations and options are named. A column that fills no person \
field is reported once and its values ignored.

Exit status: 0 when every row was imported; 1 when none was (every row rejected, or the \
import failed); 2 when some rows were imported and some rejected (each is listed, with its \
line)."
)]
pub struct ImportArgs {
    /// The file: `.csv`, or `.jsonl`/`.ndjson`.
    pub file: String,
    /// `csv` or `jsonl` (default: from the file's extension).
    #[arg(long)]
    pub format: Option<String>,
    /// What the file holds: `persons` (v1 bodies), `deals` or `activities` (v2 bodies), or
    /// `notes` (v1 bodies).
    #[arg(long, default_value = "persons")]
    pub items: String,
    /// Rows per transaction.
    #[arg(long, default_value_t = 20_000)]
    pub batch: usize,
    /// Import as this company's first admin (default: the first company).
    #[command(flatten)]
    pub company: CompanyArg,
    /// Persons: create each organization an `Organization` column names that the company
    /// does not have, once per name (names are first matched to the company's organizations,
    /// case aside). Without it, a row naming an unknown organization is rejected.
    #[arg(long)]
    pub create_organizations: bool,
    /// No progress bar (for scripts; there is none either when stderr is not a terminal).
    #[arg(long)]
    pub quiet: bool,
}

#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Address to listen on: `PORT`, `:PORT` (both on 127.0.0.1), `HOST:PORT` (a name such as
    /// `localhost`, or an address) or `[IPv6]:PORT`.
    #[arg(long, env = "PIPESTACK_LISTEN", default_value = "127.0.0.1:8080", value_parser = listen_address)]
    pub listen: String,
    /// Keep everything in memory: nothing is written to disk, and all is gone at exit
    /// (`PIPESTACK_MEMORY`: true/false, on/off, yes/no, 1/0).
    #[arg(long, env = "PIPESTACK_MEMORY", value_parser = clap::builder::BoolishValueParser::new(),
          default_value_t = false, num_args = 0, default_missing_value = "true")]
    pub memory: bool,
    /// PostgreSQL: database connections kept by this instance.
    #[arg(long, env = "PIPESTACK_POOL_SIZE", default_value_t = 16)]
    pub pool_size: usize,
    /// PostgreSQL: the longest a statement may run, in milliseconds; past it the request gets
    /// a 503 (also the time allowed to get a connection).
    #[arg(long, env = "PIPESTACK_STATEMENT_TIMEOUT_MS", default_value_t = 5000)]
    pub statement_timeout_ms: u64,
    /// Fix the admin user's API token (instead of a random one), for scripts and CI.
    #[arg(long, env = "PIPESTACK_API_TOKEN", hide_env_values = true)]
    pub api_token: Option<String>,
    /// Rate limits: `off`, `pipedrive` (Pipedrive's burst window and daily token budget), or
    /// the path of a JSON file of limits (see the README).
    #[arg(long, env = "PIPESTACK_RATE_LIMITS", default_value = "off")]
    pub rate_limits: String,
    /// Seconds to wait before each retry of a failed webhook delivery, comma-separated
    /// (Pipedrive's: 3, 30 and 150; fractions for tests, such as `0.1,0.2,0.3`).
    #[arg(
        long,
        env = "PIPESTACK_WEBHOOK_RETRY_DELAYS",
        default_value = "3,30,150"
    )]
    pub webhook_retry_delays: String,
    /// The networks webhooks may deliver to, as `CIDR,…` (default: anywhere, loopback and
    /// private addresses included). A shared server should restrict it: see the README.
    #[arg(long, env = "PIPESTACK_WEBHOOK_ALLOW", default_value = "")]
    pub webhook_allow: String,
    /// Serve the admin API for tests under `/_pipestack/` (reset, snapshots, request journal,
    /// faults, clock), for admin tokens: never on a server that keeps real contacts.
    #[arg(long, env = "PIPESTACK_ADMIN_API", value_parser = clap::builder::BoolishValueParser::new(),
          default_value_t = false, num_args = 0, default_missing_value = "true")]
    pub admin_api: bool,
    /// The admin API's request journal: entries kept per company.
    #[arg(long, env = "PIPESTACK_JOURNAL_SIZE", default_value_t = 1000)]
    pub journal_size: usize,
    /// A JSON file of users, fields, organizations, persons, deals, activities and notes applied
    /// to the first company when the database is created (and at each admin API reset).
    #[arg(long, env = "PIPESTACK_FIXTURES")]
    pub fixtures: Option<String>,
    #[command(flatten)]
    pub limits: LimitArgs,
}

/// The request and connection limits (the README's limits table).
#[derive(Debug, Args)]
pub struct LimitArgs {
    /// Largest request body, in bytes (413 past it).
    #[arg(long, env = "PIPESTACK_MAX_BODY_BYTES", default_value_t = Limits::default().max_body_bytes)]
    pub max_body_bytes: usize,
    /// Largest total size of a request's headers, in bytes (431 past it).
    #[arg(long, env = "PIPESTACK_MAX_HEADER_BYTES", default_value_t = Limits::default().max_header_bytes)]
    pub max_header_bytes: usize,
    /// Most header fields in one request (431 past it).
    #[arg(long, env = "PIPESTACK_MAX_HEADERS", default_value_t = Limits::default().max_headers)]
    pub max_headers: usize,
    /// Deepest nesting of arrays and objects in a body, at most 128 (400 past it).
    #[arg(long, env = "PIPESTACK_MAX_JSON_DEPTH", default_value_t = Limits::default().max_json_depth,
          value_parser = clap::value_parser!(u16).range(1..=128).map(usize::from))]
    pub max_json_depth: usize,
    /// Longest array anywhere in a body (400 past it).
    #[arg(long, env = "PIPESTACK_MAX_ARRAY_ITEMS", default_value_t = Limits::default().max_array_items)]
    pub max_array_items: usize,
    /// Seconds a client may take to send a request's body once its headers are in (408).
    #[arg(long, env = "PIPESTACK_REQUEST_TIMEOUT_SECS", default_value_t = Limits::default().request_timeout.as_secs())]
    pub request_timeout_secs: u64,
    /// Seconds a connection may take to send a request's headers, and may stay idle.
    #[arg(long, env = "PIPESTACK_IDLE_TIMEOUT_SECS", default_value_t = Limits::default().idle_timeout.as_secs())]
    pub idle_timeout_secs: u64,
    /// Most connections served at once; past it the one that has kept the server waiting
    /// longest is closed to make room (a 503 and close when none can be).
    #[arg(long, env = "PIPESTACK_MAX_CONNECTIONS", default_value_t = Limits::default().max_connections)]
    pub max_connections: usize,
    /// Most connections served at once for one client address, the same way.
    #[arg(long, env = "PIPESTACK_MAX_CONNECTIONS_PER_ADDRESS", default_value_t = Limits::default().max_connections_per_address)]
    pub max_connections_per_address: usize,
}

impl LimitArgs {
    pub fn to_limits(&self) -> Limits {
        Limits {
            max_body_bytes: self.max_body_bytes,
            max_header_bytes: self.max_header_bytes,
            max_headers: self.max_headers,
            max_json_depth: self.max_json_depth,
            max_array_items: self.max_array_items,
            request_timeout: Duration::from_secs(self.request_timeout_secs.max(1)),
            idle_timeout: Duration::from_secs(self.idle_timeout_secs.max(1)),
            max_connections: self.max_connections.max(1),
            max_connections_per_address: self.max_connections_per_address.max(1),
            ..Limits::default()
        }
    }
}

#[derive(Debug, Args)]
pub struct CompanyArg {
    /// The company (default: the first one).
    #[arg(long)]
    pub company: Option<i64>,
}

#[derive(Debug, Subcommand)]
pub enum UsersCommand {
    /// Add a user and print its API token.
    Add {
        #[arg(long)]
        name: String,
        #[arg(long)]
        email: String,
        #[command(flatten)]
        company: CompanyArg,
    },
    /// Deactivate a user: its token stops working at once; what it owns stays.
    Deactivate { id: i64 },
    /// Activate a deactivated user again.
    Activate { id: i64 },
    /// Give a user a new API token and print it (tokens are stored only as digests, so this
    /// is how an admin gets one again); the old one stops working at once.
    Token { id: i64 },
}

#[derive(Debug, Subcommand)]
pub enum CompaniesCommand {
    /// List companies.
    List,
    /// Add a company with its own admin user, and print the admin's token.
    Add { name: String },
    /// Set where the company is and what it does (`/v1/users/me`'s `company_country` and
    /// `company_industry`; "US" and "Other" until set).
    Profile {
        /// A country code, such as US or EE.
        #[arg(long)]
        country: Option<String>,
        /// An industry, such as "IT Services".
        #[arg(long)]
        industry: Option<String>,
        #[command(flatten)]
        company: CompanyArg,
    },
    /// Switch the Campaigns product (marketing_status) on or off.
    Campaigns {
        state: OnOff,
        #[command(flatten)]
        company: CompanyArg,
    },
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum OnOff {
    On,
    Off,
}

/// `--listen`: a port alone or after a colon means 127.0.0.1; otherwise `HOST:PORT`, the host a
/// name (resolved when bound) or an address, IPv6 in brackets.
pub fn listen_address(arg: &str) -> Result<String, String> {
    let arg = arg.trim();
    let port_only = arg.strip_prefix(':').unwrap_or(arg);
    if port_only.parse::<u16>().is_ok() {
        return Ok(format!("127.0.0.1:{port_only}"));
    }
    let bad = || {
        format!(
            "{arg:?} is not an address to listen on: give a port (8081), :PORT, HOST:PORT \
             (localhost:8081, 0.0.0.0:8081) or [IPv6]:PORT ([::1]:8081)"
        )
    };
    let (host, port) = arg.rsplit_once(':').ok_or_else(bad)?;
    if host.is_empty() || port.parse::<u16>().is_err() {
        return Err(bad());
    }
    if host.contains(':') && !(host.starts_with('[') && host.ends_with(']')) {
        return Err(bad());
    }
    Ok(arg.to_owned())
}

#[cfg(test)]
mod tests {
    use super::listen_address;

    #[test]
    fn listen_takes_a_port_a_colon_port_a_host_and_port_or_ipv6() {
        assert_eq!(listen_address("8081").unwrap(), "127.0.0.1:8081");
        assert_eq!(listen_address(":8081").unwrap(), "127.0.0.1:8081");
        assert_eq!(listen_address("localhost:8081").unwrap(), "localhost:8081");
        assert_eq!(listen_address("0.0.0.0:0").unwrap(), "0.0.0.0:0");
        assert_eq!(listen_address("[::1]:8081").unwrap(), "[::1]:8081");
        for bad in [
            "",
            "localhost",
            "host:port",
            ":",
            "::1:8081",
            "1.2.3.4:99999",
        ] {
            assert!(listen_address(bad).is_err(), "{bad}");
        }
    }
}
