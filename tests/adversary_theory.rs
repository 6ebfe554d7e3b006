//! The simulator against published theory (issue 5's validation list).
//!
//! Every test runs small, fast networks through the library API with fixed
//! seeds, pools the runs, and compares the pooled measurement with a closed
//! form from `forklab::theory`, within a tolerance derived from
//! that model's own standard error (stated at each assertion). The networks
//! are chosen so that the models' assumptions hold: constant 1 ms links, no
//! processing or validation delay, and a 10-minute block interval, so
//! honest blocks reach every node long before the next block is found
//! (natural forks have probability ~ 3 ms / 600 s); modelled proof of work
//! (no grinding); retargeting off (constant difficulty, as the models
//! assume).
//!
//! With fixed seeds the outcomes are deterministic; the tolerances say how
//! far a *correct* simulator could have landed from the theory by chance:
//! 4 standard errors, which a correct implementation exceeds with
//! probability ~ 6·10⁻⁵ per comparison (the seeds are arbitrary, not picked
//! to pass). A failure means the behaviour or the models' assumptions
//! changed. Besides each case's own tolerance, the cases of a test are
//! combined (Stouffer's z) so that a small bias shared by all of them is
//! caught too.

use std::collections::BTreeMap;
use std::thread;

use forklab::metrics::AttackRow;
use forklab::scenario::Scenario;
use forklab::theory::{
    nakamoto_success, premined_race_success_with_cutoff, proportion_standard_error, race_success,
    race_success_with_cutoff, rosenfeld_success, selfish_profit_threshold,
    selfish_relative_revenue, selfish_revenue_standard_error,
};
use forklab::world::output::Summary;
use forklab::world::{Config, RunOutput, World};

/// Tolerance in standard errors (two-sided, ~6·10⁻⁵ for a normal).
const SIGMAS: f64 = 4.0;

/// The shared fast network: a full mesh with negligible latency, stopping
/// at `height`. `extra` is appended (the `nodes`, `adversaries` and
/// `workload` sections).
fn scenario_yaml(seed: u64, height: u32, extra: &str) -> String {
    format!(
        "name: theory\n\
         seed: {seed}\n\
         stop: {{ height: {height}, settle: 5s }}\n\
         consensus: {{ target_interval: 10m, retarget_window: 0 }}\n\
         pow: {{ grind: false }}\n\
         network:\n\
         \x20 topology: {{ kind: full_mesh }}\n\
         \x20 latency: {{ kind: constant, ms: 1 }}\n\
         \x20 processing: 0ms\n\
         \x20 validation: {{ per_block: 0ms, per_tx: 0ms }}\n\
         \x20 tx_announce_interval: 1ms\n\
         metrics: {{ balance_interval: 10000h, tips: false }}\n\
         {extra}"
    )
}

/// Runs a scenario given as YAML to the end.
fn run(yaml: &str) -> RunOutput {
    run_with_time(yaml).0
}

/// The run's output and its simulated duration in seconds.
fn run_with_time(yaml: &str) -> (RunOutput, f64) {
    let scenario = Scenario::from_yaml_str(yaml, "adversary_theory", &[])
        .unwrap_or_else(|e| panic!("scenario: {e}\n{yaml}"));
    let cfg = Config::from_scenario(&scenario).expect("config");
    let mut world = World::new(cfg);
    world.run();
    let t = world.now().as_secs_f64();
    (world.finish(), t)
}

/// Runs `seeds` in parallel (two at a time at most per call, the CI
/// machine has two cores) and returns their outputs in seed order.
fn run_seeds<T: Send>(seeds: &[u64], f: impl Fn(u64) -> T + Sync) -> Vec<T> {
    let mut out = Vec::with_capacity(seeds.len());
    for pair in seeds.chunks(2) {
        thread::scope(|s| {
            let handles: Vec<_> = pair
                .iter()
                .map(|&seed| {
                    let f = &f;
                    s.spawn(move || f(seed))
                })
                .collect();
            out.extend(handles.into_iter().map(|h| h.join().expect("run panicked")));
        });
    }
    out
}

/// Main-chain blocks (genesis excluded) per miner node, and their total.
fn main_chain_blocks(out: &RunOutput) -> (BTreeMap<i64, u64>, u64) {
    let mut per_miner = BTreeMap::new();
    let mut total = 0;
    for b in out.metrics.block_rows().iter().filter(|b| b.height > 0) {
        if b.main_chain == 1 {
            *per_miner.entry(b.miner).or_insert(0) += 1;
            total += 1;
        }
    }
    (per_miner, total)
}

#[test]
fn honest_miners_earn_their_hashrate_share() {
    // Four honest miners with shares 10/20/30/40%. With no forks each
    // main-chain block is an independent draw of its miner with those
    // probabilities (memoryless mining), so miner i's count is binomial:
    // tolerance 4·sqrt(s(1−s)/N).
    let shares = [0.1, 0.2, 0.3, 0.4];
    let extra = "nodes:\n  count: 4\n  hashrate: { kind: shares, total_hps: 1000, shares: [0.1, 0.2, 0.3, 0.4] }\n";
    let outs = run_seeds(&[11, 12], |seed| {
        let out = run(&scenario_yaml(seed, 6_000, extra));
        main_chain_blocks(&out)
    });
    let mut counts = [0u64; 4];
    let mut total = 0;
    for (per_miner, n) in &outs {
        total += n;
        for (i, c) in counts.iter_mut().enumerate() {
            *c += per_miner.get(&(i as i64)).copied().unwrap_or(0);
        }
    }
    assert!(total >= 12_000, "{total} main-chain blocks");
    for (i, &s) in shares.iter().enumerate() {
        let measured = counts[i] as f64 / total as f64;
        let tol = SIGMAS * proportion_standard_error(s, total);
        assert!(
            (measured - s).abs() <= tol,
            "miner {i}: {measured:.4} of {total} main-chain blocks, hashrate share {s} ± {tol:.4}"
        );
    }
}

/// The pooled relative revenue of a selfish miner (node 0, hashrate share
/// `alpha`, explicit `gamma`) over `seeds` runs of `height` blocks, and the
/// main-chain blocks it was measured over.
fn selfish_revenue(alpha: f64, gamma: Option<f64>, seeds: &[u64], height: u32) -> (f64, u64) {
    // Node 0 is the attacker; four honest nodes share the rest equally, so
    // an explicit γ of 0, 1/2 or 1 is realised exactly by 0, 2 or 4 of them.
    let gamma_key = gamma.map(|g| format!(", gamma: {g}")).unwrap_or_default();
    let extra = format!(
        "nodes: {{ count: 5, hashrate: {{ kind: equal, total_hps: 1000 }} }}\n\
         adversaries:\n\
         \x20 - {{ kind: selfish, node: 0, share: {alpha}{gamma_key} }}\n"
    );
    let runs = run_seeds(seeds, |seed| {
        let (out, t) = run_with_time(&scenario_yaml(seed, height, &extra));
        let (per_miner, total) = main_chain_blocks(&out);
        let pool = per_miner.get(&0).copied().unwrap_or(0);
        // The summary row the sweeps and charts use says the same.
        let summary = Summary::of(&out, t, out.txs_confirmed);
        let row = summary
            .attacker_relative_revenue
            .expect("a selfish run has attacker_relative_revenue");
        assert!((row - pool as f64 / total as f64).abs() < 1e-12, "{row}");
        if let Some(g) = gamma {
            let effective = summary.gamma_effective.expect("explicit γ is reported");
            assert!(
                (effective - g).abs() < 1e-9,
                "γ {g} realised as {effective}"
            );
        }
        (pool, total)
    });
    let pool: u64 = runs.iter().map(|r| r.0).sum();
    let total: u64 = runs.iter().map(|r| r.1).sum();
    (pool as f64 / total as f64, total)
}

/// Checks the measured relative revenue at each α against Eyal & Sirer's
/// `R(α, γ)`, and its side of `α` against the profitability threshold.
fn check_selfish(gamma: f64, alphas: &[f64]) {
    let threshold = selfish_profit_threshold(gamma);
    let mut scores = Vec::new();
    for (k, &alpha) in alphas.iter().enumerate() {
        let seeds: Vec<u64> = (0..4).map(|i| 100 * (k as u64 + 1) + i).collect();
        let (measured, main) = selfish_revenue(alpha, Some(gamma), &seeds, 5_000);
        let want = selfish_relative_revenue(alpha, gamma);
        // The standard error of a relative revenue measured over `main`
        // main-chain blocks, from the model's independent attack cycles
        // (renewal-reward + delta method; see `SelfishCycle`): larger than
        // the binomial error, since a cycle's blocks go to one side.
        let se = selfish_revenue_standard_error(alpha, gamma, main as f64);
        eprintln!(
            "selfish α={alpha} γ={gamma}: measured {measured:.4} over {main} blocks, \
             R(α, γ) = {want:.4}, SE {se:.4}"
        );
        assert!(
            (measured - want).abs() <= SIGMAS * se,
            "α={alpha} γ={gamma}: measured {measured:.4} over {main} main-chain blocks, \
             Eyal–Sirer {want:.4} ± {:.4} ({SIGMAS} SE)",
            SIGMAS * se
        );
        scores.push((measured - want) / se);
        // Below the threshold selfish mining earns less than α; above, more.
        // Each chosen α is more than 4 SE away from the line y = α (checked
        // first), so the measurement must be on the predicted side too.
        assert!(
            (want - alpha).abs() > SIGMAS * se,
            "test design: α={alpha} γ={gamma} is too close to the threshold"
        );
        if alpha < threshold {
            assert!(
                measured < alpha,
                "α={alpha} < threshold {threshold:.3} (γ={gamma}) but measured {measured:.4}"
            );
        } else {
            assert!(
                measured > alpha,
                "α={alpha} > threshold {threshold:.3} (γ={gamma}) but measured {measured:.4}"
            );
        }
    }
    assert_unbiased(&format!("selfish γ={gamma}"), &scores);
}

#[test]
fn selfish_revenue_matches_eyal_sirer_gamma_0() {
    // Threshold 1/3: 0.2 and 0.3 lose, 0.4 wins.
    check_selfish(0.0, &[0.2, 0.3, 0.4]);
}

#[test]
fn selfish_revenue_matches_eyal_sirer_gamma_half() {
    // Threshold 1/4: 0.2 loses, 0.3 and 0.4 win.
    check_selfish(0.5, &[0.2, 0.3, 0.4]);
}

#[test]
fn selfish_revenue_matches_eyal_sirer_gamma_1() {
    // Threshold 0: every α wins.
    check_selfish(1.0, &[0.2, 0.3, 0.4]);
}

/// Finished double-spend attempts (released or given up) and successes of
/// an attacker (node 0, hashrate share `q`) against merchant wallet 1,
/// pooled over `seeds` runs. Each run has up to
/// `forklab::adversary::DOUBLE_SPEND_COINS` attempts, one after the other;
/// an attempt still open when the run stops is left out.
fn double_spend_attempts(q: f64, z: u32, give_up: u32, seeds: &[u64]) -> (u64, u64) {
    premined_double_spend_attempts(q, z, give_up, 0, seeds)
}

/// [`double_spend_attempts`] for an attacker that pre-mines `premine`
/// blocks before each payment.
fn premined_double_spend_attempts(
    q: f64,
    z: u32,
    give_up: u32,
    premine: u32,
    seeds: &[u64],
) -> (u64, u64) {
    let runs = premined_double_spend_rows(q, z, give_up, premine, seeds);
    let finished = runs.iter().flatten().filter(|r| r.outcome != "unfinished");
    let (mut wins, mut n) = (0, 0);
    for r in finished {
        assert_eq!(r.confirmations, z);
        assert!(r.success == 0 || r.outcome == "released", "{r:?}");
        wins += r.success as u64;
        n += 1;
    }
    (wins, n)
}

/// The `attacks.csv` rows of each run of [`double_spend_attempts`].
fn double_spend_rows(q: f64, z: u32, give_up: u32, seeds: &[u64]) -> Vec<Vec<AttackRow>> {
    premined_double_spend_rows(q, z, give_up, 0, seeds)
}

/// [`double_spend_rows`] with `premine` pre-mined blocks per attempt.
fn premined_double_spend_rows(
    q: f64,
    z: u32,
    give_up: u32,
    premine: u32,
    seeds: &[u64],
) -> Vec<Vec<AttackRow>> {
    let extra = format!(
        "nodes: {{ count: 5, hashrate: {{ kind: equal, total_hps: 1000 }} }}\n\
         workload: {{ wallets: 2, payments_per_s: 0 }}\n\
         adversaries:\n\
         \x20 - {{ kind: double_spend, node: 0, share: {q}, merchant_wallet: 1, \
         confirmations: {z}, give_up_behind: {give_up}, premine: {premine}, \
         amount_sats: 100000000 }}\n"
    );
    run_seeds(seeds, |seed| {
        let out = run(&scenario_yaml(seed, 4_000, &extra));
        let rows = out.metrics.attack_rows().to_vec();
        assert!(
            rows.len() as u32 >= forklab::adversary::DOUBLE_SPEND_COINS - 1,
            "seed {seed}: only {} attempts started",
            rows.len()
        );
        rows
    })
}

#[test]
fn double_spend_success_matches_the_exact_race() {
    // The exact probability of the block race the attacker plays (no
    // pre-mined block; release once strictly longer after the merchant's z
    // confirmations; give up `give_up_behind` blocks behind), computed by
    // `race_success_with_cutoff` (a finite Markov chain plus gambler's
    // ruin; it tends to Rosenfeld's formula with one more block to gain as
    // the cutoff grows). Attempts are independent Bernoulli trials (each
    // starts afresh on a memoryless mining process), so the tolerance is
    // 4·sqrt(P(1−P)/n). The cases are chosen so that the cutoff matters
    // (the infinite-race probability, and Nakamoto's and Rosenfeld's
    // figures for their own models, lie outside the tolerance) except for
    // the first, a rare success.
    let cases = [
        (0.1, 1, 6, false),
        (0.3, 2, 2, true),
        (0.35, 3, 3, true),
        (0.4, 2, 3, true),
    ];
    let mut scores = Vec::new();
    for (k, (q, z, give_up, cutoff_matters)) in cases.into_iter().enumerate() {
        let seeds: Vec<u64> = (0..8).map(|i| 1_000 * (k as u64 + 1) + i).collect();
        let (wins, n) = double_spend_attempts(q, z, give_up, &seeds);
        let want = race_success_with_cutoff(q, z, give_up);
        let tol = SIGMAS * proportion_standard_error(want, n);
        // Test design: the other models are told apart at this sample size.
        for (name, other) in [
            ("Rosenfeld", rosenfeld_success(q, z)),
            ("Nakamoto", nakamoto_success(q, z)),
        ] {
            assert!((other - want).abs() > tol, "{name} q={q} z={z}");
        }
        if cutoff_matters {
            assert!(
                (race_success(q, z) - want).abs() > tol,
                "no cutoff q={q} z={z}"
            );
        }
        let measured = wins as f64 / n as f64;
        eprintln!(
            "double spend q={q} z={z} give_up={give_up}: {wins}/{n} = {measured:.4}, \
             exact race {want:.4} ± {tol:.4}, without cutoff {:.4}",
            race_success(q, z)
        );
        assert!(n >= 1_800, "q={q} z={z}: only {n} finished attempts");
        assert!(
            (measured - want).abs() <= tol,
            "q={q} z={z} give_up={give_up}: {wins}/{n} = {measured:.4}, \
             exact race {want:.4} ± {tol:.4} ({SIGMAS} SE)"
        );
        scores.push((measured - want) / proportion_standard_error(want, n));
    }
    assert_unbiased("double spend", &scores);
}

#[test]
fn premined_double_spend_matches_rosenfelds_race() {
    // `premine: 1`: the attacker mines one private block before each
    // payment (Rosenfeld's attacker), then plays the same race. The exact
    // figure with the give-up cutoff is `premined_race_success_with_cutoff`
    // (it tends to Rosenfeld's formula as the cutoff grows); the cases are
    // chosen so that the no-premine race lies outside the tolerance, so the
    // pre-mined block is what the measurement sees.
    let cases = [(0.3, 2, 4), (0.2, 1, 3)];
    let mut scores = Vec::new();
    for (k, (q, z, give_up)) in cases.into_iter().enumerate() {
        let seeds: Vec<u64> = (0..8).map(|i| 9_000 + 100 * k as u64 + i).collect();
        let (wins, n) = premined_double_spend_attempts(q, z, give_up, 1, &seeds);
        let want = premined_race_success_with_cutoff(q, z, give_up, 1);
        let tol = SIGMAS * proportion_standard_error(want, n);
        let without = race_success_with_cutoff(q, z, give_up);
        assert!((without - want).abs() > tol, "no premine q={q} z={z}");
        let measured = wins as f64 / n as f64;
        eprintln!(
            "premined double spend q={q} z={z} give_up={give_up}: {wins}/{n} = {measured:.4}, \
             exact {want:.4} ± {tol:.4}, Rosenfeld (no cutoff) {:.4}, no premine {without:.4}",
            rosenfeld_success(q, z)
        );
        assert!(n >= 1_800, "q={q} z={z}: only {n} finished attempts");
        assert!(
            (measured - want).abs() <= tol,
            "q={q} z={z} give_up={give_up}: {wins}/{n} = {measured:.4}, \
             exact {want:.4} ± {tol:.4} ({SIGMAS} SE)"
        );
        scores.push((measured - want) / proportion_standard_error(want, n));
    }
    assert_unbiased("premined double spend", &scores);
}

/// The cases of a test are independent, so under the model their
/// standardised errors `z_i` are independent standard normals and
/// `Σ z_i / √k` is one too (Stouffer's combination): a bias that each case
/// hides inside its own tolerance shows up here, at the same 4 SE.
fn assert_unbiased(what: &str, scores: &[f64]) {
    let combined = scores.iter().sum::<f64>() / (scores.len() as f64).sqrt();
    assert!(
        combined.abs() <= SIGMAS,
        "{what}: the cases err on one side: z = {scores:.2?}, combined {combined:.2} SE"
    );
}

#[test]
fn released_double_spends_win_on_a_fast_network() {
    // The attacker releases only a chain strictly longer than the public
    // one; with 1 ms links an honest block can overturn that only if found
    // within the ~2 ms the release takes to spread (probability ~ 3·10⁻⁶
    // per release), so every released attempt must succeed. This is the
    // race model's "release ⇒ win" step, which the success-rate test above
    // only checks on average.
    let runs = double_spend_rows(0.3, 1, 6, &[71, 72]);
    let released: Vec<&AttackRow> = runs
        .iter()
        .flatten()
        .filter(|r| r.outcome == "released")
        .collect();
    assert!(released.len() >= 100, "{} releases", released.len());
    let lost: Vec<_> = released.iter().filter(|r| r.success == 0).collect();
    assert!(
        lost.is_empty(),
        "{} of {} released attempts lost, e.g. {:?}",
        lost.len(),
        released.len(),
        lost.first()
    );
}
