//! Any bytes as an invocation payload: reading must answer (an event or a refusal) and never
//! panic (a panic aborts the Lambda process), and planning an accepted event against any stored
//! item must not panic either. Seeded from events/ (infra/fuzz.sh).
#![no_main]

use contact_state_core::event::parse;
use contact_state_core::facts::{self, Places};
use contact_state_core::plan::Plan;
use contact_state_core::store::StoredItem;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|payload: &[u8]| {
    let event = match parse(payload) {
        Ok(event) => event,
        Err(refusal) => {
            let line = refusal.to_string();
            assert!(!line.contains('\n'), "a refusal is one line: {line:?}");
            return;
        }
    };
    assert!((1..=256).contains(&event.contact_id.chars().count()));
    // Extreme receipt times and retentions: the arithmetic must saturate, not overflow.
    for (received_at, retention_days) in [(0, 1), (1_700_000_000, 90), (i64::MAX, 36_500)] {
        let Some(plan) = Plan::from_event(&event, received_at, retention_days, true) else {
            return;
        };
        let keys = [None, Some(0), Some(u64::MAX)];
        let times = [None, Some(i64::MIN), Some(0), Some(i64::MAX)];
        for state_key in keys {
            for routing_key in keys {
                for last_event_at in times {
                    let stored = StoredItem {
                        state_key,
                        routing_key,
                        last_event_at,
                        tags_key: state_key,
                        place_keys: Places {
                            queue: state_key,
                            agent: routing_key,
                        },
                        ..StoredItem::default()
                    };
                    let _ = plan.write_against(&stored);
                }
            }
        }
        // An item ahead on every dimension with every fact needs nothing from any event.
        let ahead = StoredItem {
            state: None,
            state_key: Some(u64::MAX),
            routing_key: Some(u64::MAX),
            last_event_at: Some(i64::MAX),
            tags_key: Some(u64::MAX),
            place_keys: Places {
                queue: Some(u64::MAX),
                agent: Some(u64::MAX),
            },
            facts: facts::attributes().collect(),
            ..StoredItem::default()
        };
        assert_eq!(plan.write_against(&ahead), None);
    }
});
