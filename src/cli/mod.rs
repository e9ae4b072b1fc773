//! The `orrery` command line: the server, account administration and file ingestion.

pub mod drift;
pub mod ingest;

use std::io::BufRead;
use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

use crate::db::Db;
use crate::server::config::ServerConfig;

#[derive(Debug, Parser)]
#[command(name = "orrery", version, about = "Self-hosted ML metadata store and production-model monitoring")]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Start the web server.
    Serve(ServerConfig),
    /// Manage user accounts.
    User {
        #[command(subcommand)]
        command: UserCommand,
    },
    /// Manage personal API tokens.
    Token {
        #[command(subcommand)]
        command: TokenCommand,
    },
    /// Send a CSV or Parquet file of inferences to a running server.
    Ingest(ingest::IngestArgs),
    /// Compare two CSV or Parquet files and print the drift of every column, with no server.
    Drift(drift::DriftArgs),
}

/// Database location, for commands that open it directly.
#[derive(Debug, Args)]
pub struct DatabaseArgs {
    /// Folder of the SQLite database (used when no --database-url is given).
    #[arg(long, env = "ORRERY_DATA_DIR", default_value = "./data")]
    pub data_dir: PathBuf,
    /// PostgreSQL URL, as given to `orrery serve`.
    #[arg(long, env = "ORRERY_DATABASE_URL")]
    pub database_url: Option<String>,
}

#[derive(Debug, Subcommand)]
pub enum UserCommand {
    /// Create a user. The password is read from standard input with --password-stdin, or
    /// generated and printed.
    Create {
        #[arg(long)]
        username: String,
        /// Make the user a server administrator.
        #[arg(long)]
        admin: bool,
        /// Read the password from the first line of standard input.
        #[arg(long)]
        password_stdin: bool,
        #[command(flatten)]
        database: DatabaseArgs,
    },
}

#[derive(Debug, Subcommand)]
pub enum TokenCommand {
    /// Create an API token for a user; the token is printed alone on the last line.
    Create {
        /// Username the token acts as.
        #[arg(long)]
        user: String,
        /// Label shown in the token list, such as ci-pipeline.
        #[arg(long)]
        name: String,
        /// Slug of the only workspace the token may act in; without it, the token acts in
        /// every workspace of the user, and MLflow requests use the user's default one.
        #[arg(long)]
        workspace: Option<String>,
        #[command(flatten)]
        database: DatabaseArgs,
    },
}

pub async fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        Command::Serve(config) => crate::server::serve(config).await,
        Command::User { command: UserCommand::Create { username, admin, password_stdin, database } } => {
            create_user(&username, admin, password_stdin, &database).await
        }
        Command::Token { command: TokenCommand::Create { user, name, workspace, database } } => {
            create_token(&user, &name, workspace.as_deref(), &database).await
        }
        Command::Ingest(args) => ingest::run(args).await,
        Command::Drift(args) => tokio::task::spawn_blocking(move || drift::run(args)).await?,
    }
}

async fn open_db(database: &DatabaseArgs) -> anyhow::Result<Db> {
    Ok(Db::connect(database.database_url.as_deref(), &database.data_dir).await?)
}

async fn create_user(username: &str, admin: bool, password_stdin: bool, database: &DatabaseArgs) -> anyhow::Result<()> {
    let (password, generated) = if password_stdin {
        let mut line = String::new();
        std::io::stdin().lock().read_line(&mut line)?;
        (line.trim_end_matches(['\r', '\n']).to_string(), false)
    } else {
        (crate::accounts::tokens::random_secret()[..20].to_string(), true)
    };

    let db = open_db(database).await?;
    crate::server::forms::create_user_account(&db, username, &password, admin)
        .await
        .map_err(|message| anyhow::anyhow!(message))?;
    let kind = if admin { "administrator" } else { "user" };
    println!("created {kind} \"{}\"", username.trim().to_lowercase());
    if generated {
        println!("password: {password}");
    }
    Ok(())
}

async fn create_token(username: &str, name: &str, workspace: Option<&str>, database: &DatabaseArgs) -> anyhow::Result<()> {
    let db = open_db(database).await?;
    let user = db
        .user_by_name(&username.trim().to_lowercase())
        .await?
        .ok_or_else(|| {
            let place = match &database.database_url {
                Some(_) => "the database at --database-url".to_string(),
                None => format!("the database in {}", database.data_dir.display()),
            };
            anyhow::anyhow!("no user is named \"{username}\" in {place}; pass the server's --data-dir or --database-url, or create the user with `orrery user create`")
        })?;
    if name.trim().is_empty() {
        anyhow::bail!("the token name is empty; pass --name with a label such as ci-pipeline");
    }

    let workspace_id = match workspace {
        Some(slug) => Some(
            db.membership(user.id, slug)
                .await?
                .ok_or_else(|| anyhow::anyhow!("{} is not a member of a workspace \"{slug}\"; check the slug in the workspace's address", user.username))?
                .workspace_id,
        ),
        None => None,
    };

    let token = crate::accounts::tokens::new_api_token();
    db.create_token(user.id, name.trim(), &token.hash, &token.display_prefix, workspace_id).await?;
    eprintln!("created API token \"{}\" for {}; it is shown only once", name.trim(), user.username);
    println!("{}", token.secret);
    Ok(())
}
