//! `onramp debug …`: measurements used by the benchmark.

use std::time::{Duration, Instant};

use argon2::{Algorithm, Argon2, Block, Params, Version};
use clap::Subcommand;
use serde_json::json;

use super::context::{CliError, CliResult};
use super::output::emit;
use onramp_domain::infra::hashing::HashCost;

#[derive(Debug, Subcommand)]
pub enum DebugCommand {
    /// Raw argon2id verification rate of this machine (one thread per core)
    HashRate {
        /// How long to measure
        #[arg(long, default_value_t = 5)]
        seconds: u64,
    },
}

pub fn run(json: bool, cost: HashCost, cmd: DebugCommand) -> CliResult {
    let DebugCommand::HashRate { seconds } = cmd;
    let params =
        Params::new(cost.memory_kib, cost.iterations, cost.parallelism, None).map_err(|e| CliError::new("config", e.to_string()))?;
    let blocks = params.block_count();
    let argon = Argon2::new(Algorithm::Argon2id, Version::V0x13, params);
    let threads = std::thread::available_parallelism().map_or(2, |n| n.get());
    let deadline = Instant::now() + Duration::from_secs(seconds);
    let started = Instant::now();
    let total: u64 = std::thread::scope(|s| {
        let workers: Vec<_> = (0..threads)
            .map(|_| {
                s.spawn(|| {
                    // One buffer per thread, reused, as the server's hashing
                    // workers do: a fresh 19 MiB allocation per hash would
                    // measure the allocator, not argon2.
                    let mut memory = vec![Block::default(); blocks];
                    let mut out = [0u8; 32];
                    let mut n = 0u64;
                    while Instant::now() < deadline {
                        let _ = argon.hash_password_into_with_memory(b"benchmark password", b"benchmark salt", &mut out, &mut memory);
                        n += 1;
                    }
                    n
                })
            })
            .collect();
        workers.into_iter().map(|w| w.join().unwrap_or(0)).sum()
    });
    let rate = total as f64 / started.elapsed().as_secs_f64();
    emit(
        json,
        &json!({ "threads": threads, "verifications": total, "per_second": rate, "cost": cost }),
        || {
            format!(
                "{rate:.1} argon2id verifications/s with {threads} threads ({} KiB, t={}, p={})",
                cost.memory_kib, cost.iterations, cost.parallelism
            )
        },
    );
    Ok(())
}
