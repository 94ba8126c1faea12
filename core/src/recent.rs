//! What the table last told this process about recently seen contacts: the image a write
//! returned (`ALL_OLD`, plus what the write set) or a rejection handed back. Every key in it
//! only grows and facts are never removed, so an image is a lower bound of the stored item, and
//! a write planned against it is still right — the conditions guard every dimension it sets.
//! It lets an event the item already covers cost no request at all (a redelivery the same
//! environment saw), and a late event write only what is missing on its first try.
//!
//! Bounded in size and age. Items deleted behind the function's back (a table emptied or
//! recreated while it runs) would be trusted for at most [`MAX_AGE`]; TTL cannot do that, as
//! an image is kept only while its item is far from expiring.

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use crate::store::StoredItem;

/// Contacts remembered: a few hundred bytes each.
pub const CAPACITY: usize = 2_048;
/// How long an image is trusted.
pub const MAX_AGE: Duration = Duration::from_secs(300);

#[derive(Default)]
pub struct RecentItems {
    inner: Mutex<Images>,
}

#[derive(Default)]
struct Images {
    by_contact: HashMap<String, (StoredItem, Instant)>,
    /// Contact ids in the order they were remembered, for eviction (may hold stale entries).
    order: VecDeque<(String, Instant)>,
}

impl RecentItems {
    /// The last image of `contact_id` still trusted, if any.
    pub fn get(&self, contact_id: &str) -> Option<StoredItem> {
        let images = self.inner.lock().ok()?;
        let (stored, at) = images.by_contact.get(contact_id)?;
        (at.elapsed() < MAX_AGE).then(|| stored.clone())
    }

    /// Remembers `stored` as what the table holds for `contact_id` now.
    pub fn remember(&self, contact_id: &str, stored: StoredItem) {
        let Ok(mut images) = self.inner.lock() else {
            return;
        };
        let now = Instant::now();
        images
            .by_contact
            .insert(contact_id.to_owned(), (stored, now));
        images.order.push_back((contact_id.to_owned(), now));
        while images.by_contact.len() > CAPACITY || images.order.len() > 2 * CAPACITY {
            let Some((oldest, at)) = images.order.pop_front() else {
                break;
            };
            // Only the entry remembered at that moment goes; a newer one of the contact stays.
            if images
                .by_contact
                .get(&oldest)
                .is_some_and(|(_, when)| *when == at)
            {
                images.by_contact.remove(&oldest);
            }
        }
    }

    /// Forgets `contact_id` (its write failed: what the table holds is not known).
    pub fn forget(&self, contact_id: &str) {
        if let Ok(mut images) = self.inner.lock() {
            images.by_contact.remove(contact_id);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn image(state_key: u64) -> StoredItem {
        StoredItem {
            state_key: Some(state_key),
            ..StoredItem::default()
        }
    }

    #[test]
    fn the_last_image_of_a_contact_is_recalled() {
        let known = RecentItems::default();
        known.remember("c-1", image(1));
        known.remember("c-1", image(2));
        assert_eq!(known.get("c-1"), Some(image(2)));
        assert_eq!(known.get("c-2"), None);
        known.forget("c-1");
        assert_eq!(known.get("c-1"), None);
    }

    #[test]
    fn at_most_capacity_contacts_are_remembered_the_oldest_going_first() {
        let known = RecentItems::default();
        for n in 0..CAPACITY + 10 {
            known.remember(&format!("c-{n}"), image(n as u64));
        }
        assert_eq!(known.get("c-0"), None);
        assert_eq!(known.get("c-9"), None);
        assert!(known.get("c-10").is_some());
        assert!(known.get(&format!("c-{}", CAPACITY + 9)).is_some());
        // A contact seen again is not evicted by its older entry.
        for _ in 0..3 * CAPACITY {
            known.remember("busy", image(1));
        }
        assert!(known.get("busy").is_some());
    }
}
