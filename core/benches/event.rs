//! Processing one event without I/O (read + plan the first write), against the floor of any JSON
//! handling: `serde_json::from_slice::<Value>` of the same bytes. Goal: at most twice the floor.
//! `make bench` prints the ratio per sample event (infra/bench.sh reads criterion's estimates).

use std::hint::black_box;

use contact_state_core::event::parse;
use contact_state_core::plan::Plan;
use contact_state_core::store::StoredItem;
use criterion::{Criterion, criterion_group, criterion_main};

fn samples() -> Vec<(String, Vec<u8>)> {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../events");
    let mut files: Vec<_> = std::fs::read_dir(dir)
        .map(|entries| entries.filter_map(Result::ok).map(|e| e.path()).collect())
        .unwrap_or_default();
    files.retain(|path| {
        path.extension().is_some_and(|ext| ext == "json")
            && !path.to_string_lossy().contains("refused")
    });
    files.sort();
    files
        .into_iter()
        .filter_map(|path| {
            let name = path.file_stem()?.to_string_lossy().into_owned();
            Some((name, std::fs::read(path).ok()?))
        })
        .collect()
}

fn process(payload: &[u8]) -> usize {
    let Ok(event) = parse(payload) else {
        return 0;
    };
    let Some(plan) = Plan::from_event(&event, 1_717_200_000, 90, true) else {
        return 0;
    };
    plan.write_against(&StoredItem::default())
        .map_or(0, |write| write.facts.len())
}

fn bench(c: &mut Criterion) {
    for (name, payload) in samples() {
        let mut group = c.benchmark_group(name);
        group.bench_function("process", |b| b.iter(|| process(black_box(&payload))));
        group.bench_function("serde_json_value", |b| {
            b.iter(|| serde_json::from_slice::<serde_json::Value>(black_box(&payload)).ok())
        });
        group.finish();
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);
