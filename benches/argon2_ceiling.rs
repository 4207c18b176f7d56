//! Benchmark: the argon2 ceiling of this machine — how many OWASP-parameter password
//! verifications per second all cores can do with nothing else running. `scripts/bench.sh`
//! compares the service's login throughput with this number.

use std::time::{Duration, Instant};

use argon2::{Algorithm, Argon2, Block, Params, Version};

const MEASURE_FOR: Duration = Duration::from_secs(5);

fn main() {
    let threads = std::thread::available_parallelism().map_or(1, usize::from);
    let params = Params::new(19_456, 2, 1, Some(32)).expect("OWASP parameters are valid");
    let started = Instant::now();
    let workers: Vec<_> = (0..threads)
        .map(|_| {
            let params = params.clone();
            std::thread::spawn(move || {
                let argon2 = Argon2::new(Algorithm::Argon2id, Version::V0x13, params.clone());
                let mut memory = vec![Block::default(); params.block_count()];
                let mut output = [0u8; 32];
                let mut hashes = 0u64;
                while started.elapsed() < MEASURE_FOR {
                    argon2
                        .hash_password_into_with_memory(
                            b"correct horse battery staple",
                            b"a sixteen b salt",
                            &mut output,
                            &mut memory,
                        )
                        .expect("hashing with valid parameters succeeds");
                    hashes += 1;
                }
                hashes
            })
        })
        .collect();
    let hashes: u64 = workers.into_iter().map(|w| w.join().expect("worker")).sum();
    let per_second = hashes as f64 / started.elapsed().as_secs_f64();
    println!("argon2_ceiling_threads={threads}");
    println!("argon2_ceiling_hashes_per_second={per_second:.1}");
}
