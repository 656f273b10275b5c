//! The `functiond` binary.

use std::process::ExitCode;

use clap::Parser;
use functiond::config::{Cli, Command, Config, JwtCommand, KeyCommand, ProjectCommand};
use functiond::serve::{Server, cancel_on_signals};
use functiond::{Error, app};
use functiond_types::scope::Scope;
use tokio_util::sync::CancellationToken;
use tracing_subscriber::EnvFilter;

fn main() -> ExitCode {
    let cli = Cli::parse();
    tracing_subscriber::fmt()
        .with_env_filter(
            EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
        .init();
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("error: cannot start the async runtime: {error}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(cli)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error}");
            ExitCode::FAILURE
        }
    }
}

async fn run(cli: Cli) -> Result<(), Error> {
    match cli.command {
        Command::Serve(args) => {
            let config = Config::for_serve(&cli.global, &args);
            let server = Server::start(&config).await?;
            print_banner(&server, &config);
            let shutdown = CancellationToken::new();
            cancel_on_signals(shutdown.clone());
            server.run(shutdown).await.map_err(|source| Error::Listen {
                address: config.listen,
                source,
            })
        }
        Command::Project(ProjectCommand::Create { id, name }) => {
            let config = Config::for_store(&cli.global);
            let (_, projects) = app::operator(app::migrated_store(&config).await?);
            let project = projects.create(&id, name.as_deref()).await?;
            println!("created project {} ({})", project.id, project.name);
            Ok(())
        }
        Command::Key(KeyCommand::Create {
            project,
            scopes,
            name,
        }) => {
            let scopes = scopes
                .iter()
                .map(|scope| scope.parse::<Scope>())
                .collect::<Result<Vec<_>, _>>()
                .map_err(|error| Error::Usage {
                    message: error.to_string(),
                })?;
            let project =
                functiond_types::id::ProjectId::parse(&project).map_err(|_| Error::Usage {
                    message: format!("\"{project}\" is not a valid project ID"),
                })?;
            let config = Config::for_store(&cli.global);
            let (auth, _) = app::operator(app::migrated_store(&config).await?);
            let (key, secret) = auth.create_key(&project, &name, scopes).await?;
            println!("created key {} for project {}", key.id, key.project_id);
            println!("{secret}");
            Ok(())
        }
        Command::Jwt(JwtCommand::Create(args)) => {
            let token = functiond::jwt::create(&args)?;
            println!("{token}");
            Ok(())
        }
        Command::Migrate => {
            let config = Config::for_store(&cli.global);
            let store = app::open_store(&config).await?;
            let applied = store.migrate().await?;
            println!("database is up to date ({applied} migrations applied now)");
            Ok(())
        }
    }
}

fn print_banner(server: &Server, config: &Config) {
    println!("functiond is listening on {}", server.endpoint);
    if let Some(first) = &server.bootstrap {
        println!();
        println!("First start: created project and API key (all scopes).");
        println!("  endpoint: {}", server.endpoint);
        println!("  project:  {}", first.project);
        println!("  key:      {}", first.key_secret);
        println!(
            "Saved in {} (readable only by you). The key is not shown again.",
            config.data_dir.join("bootstrap.json").display()
        );
    }
}
