//! `server add|list|remove`.

use super::server_arg;
use crate::cli::ServerCommand;
use crate::failure::Failure;
use crate::output::{self, print, table};
use crate::setup::Setup;
use serde_json::json;

pub(crate) async fn run(command: ServerCommand, setup: &Setup, json: bool) -> Result<(), Failure> {
    let directory = &setup.directory;
    match command {
        ServerCommand::Add { hostname, extname } => {
            let server = directory.add_server(&hostname, &extname).await?;
            let text = format!("added server {} ({})", server.id.0, server.hostname);
            print(json, &output::server(&server), &text);
        }
        ServerCommand::List => {
            let servers = directory.servers().await?;
            let value = json!(servers.iter().map(output::server).collect::<Vec<_>>());
            let rows: Vec<_> = servers.iter().map(output::server_row).collect();
            print(json, &value, &table(output::SERVER_HEADERS, &rows));
        }
        ServerCommand::Remove { server } => {
            let id = server_arg(directory, &server, false).await?;
            let server = directory.remove_server(id).await?;
            print(
                json,
                &output::server(&server),
                &format!("removed server {} ({})", server.id.0, server.hostname),
            );
        }
    }
    Ok(())
}
