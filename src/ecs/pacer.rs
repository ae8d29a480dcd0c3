//! Spaces out calls of one operation so that the operator, on its own, stays under ECS's
//! sustained request rate instead of being throttled.

use std::sync::Mutex;
use std::time::Duration;

use tokio::time::Instant;

pub struct Pacer {
    interval: Duration,
    next: Mutex<Instant>,
}

impl Pacer {
    pub fn per_second(rate: f64) -> Self {
        Pacer {
            interval: Duration::from_secs_f64(1.0 / rate),
            next: Mutex::new(Instant::now()),
        }
    }

    /// Waits for this call's slot. Slots are handed out in order, one interval apart.
    pub async fn wait(&self) {
        let slot = {
            let mut next = self.next.lock().expect("pacer poisoned");
            let slot = (*next).max(Instant::now());
            *next = slot + self.interval;
            slot
        };
        tokio::time::sleep_until(slot).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn hands_out_slots_one_interval_apart() {
        let pacer = Pacer::per_second(5.0);
        let start = Instant::now();
        for _ in 0..3 {
            pacer.wait().await;
        }
        // First call immediate, then 200 ms apart (virtual time).
        assert_eq!(start.elapsed(), Duration::from_millis(400));
    }
}
