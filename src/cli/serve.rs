//! `sim serve DIR`: the web explorer of a finished run.

use std::net::{IpAddr, SocketAddr};
use std::path::Path;

use super::{outln, CliError, CliResult};

/// Serves `dir` on `bind:port` until Ctrl-C.
pub fn serve(dir: &Path, bind: IpAddr, port: u16) -> CliResult {
    if dir.is_file() {
        return Err(CliError::input(format!(
            "{}: sim serve takes a run's output directory (run the scenario first with `sim run`)",
            dir.display()
        )));
    }
    // Open once up front so a wrong directory is one line and exit 2.
    drop(super::show::open(dir)?);
    let addr = SocketAddr::new(bind, port);
    if !bind.is_loopback() {
        eprintln!(
            "warning: listening on {bind}: the explorer is reachable from the network (it is read-only and holds no keys)"
        );
    }
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|e| CliError::other(format!("cannot start the async runtime: {e}")))?;
    rt.block_on(async {
        let listener = tokio::net::TcpListener::bind(addr)
            .await
            .map_err(|e| CliError::input(format!("cannot listen on {addr}: {e}")))?;
        let local = listener.local_addr().unwrap_or(addr);
        outln!(
            "explorer of {} at http://{local}/ (Ctrl-C stops it)",
            dir.display()
        );
        let shutdown = async {
            let _ = tokio::signal::ctrl_c().await;
        };
        forklab::serve::serve(dir, listener, shutdown)
            .await
            .map_err(CliError::other)
    })
}
