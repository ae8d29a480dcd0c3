//! ECS's request budget: one token bucket per region and API category, with ECS's burst and
//! refill ("Request throttling for the Amazon ECS API", ECS API reference), so that the operator
//! on its own is never throttled and still uses the burst ECS allows (50 UpdateService calls at
//! once, then 5 per second).
//!
//! A write that finds its bucket empty is not waited for inside a reconcile, where a worker would
//! sit idle: [`Budget::permit`] reserves a slot for the reconciled object (its holder, see
//! [`on_behalf_of`]) and the reconcile requeues for then. Slots are one refill interval apart,
//! so that a thousand deferred writes do not all come back at the same instant; an object
//! reconciled again before its slot keeps that slot (it does not take a second one, which would
//! leave every other token unused); and while slots are held, newcomers queue behind them. A
//! read whose slot is due within [`MAX_READ_WAIT`] waits for it (reads refill at 20 per
//! second); one due later is deferred like a write.

use std::collections::HashMap;
use std::future::Future;
use std::num::NonZeroU32;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use governor::clock::{Clock, DefaultClock};
use governor::{DefaultDirectRateLimiter, Quota, RateLimiter};

/// One throttling category of ECS's write operations.
#[derive(Debug)]
pub struct Category {
    pub name: &'static str,
    /// Bucket maximum capacity (the burst).
    pub burst: u32,
    /// Tokens added per second (the sustained rate).
    pub refill: u32,
    pub operations: &'static [&'static str],
}

/// Reads wait at most this long for a token inside a reconcile; a longer wait defers them.
pub const MAX_READ_WAIT: Duration = Duration::from_secs(1);

/// The categories of ECS's table that the operator uses.
pub const CATEGORIES: &[Category] = &[
    Category {
        name: "cluster read",
        burst: 50,
        refill: 20,
        operations: &["DescribeClusters", "ListClusters"],
    },
    Category {
        name: "task definition read",
        burst: 50,
        refill: 20,
        operations: &[
            "DescribeTaskDefinition",
            "ListTaskDefinitions",
            "ListTaskDefinitionFamilies",
        ],
    },
    Category {
        name: "service read",
        burst: 100,
        refill: 20,
        operations: &["DescribeServices", "ListServices"],
    },
    Category {
        name: "service deployment",
        burst: 50,
        refill: 20,
        operations: &["DescribeServiceDeployments", "ListServiceDeployments"],
    },
    Category {
        name: "cluster resource read",
        burst: 100,
        refill: 20,
        operations: &["DescribeTasks", "ListTasks", "DescribeContainerInstances"],
    },
    Category {
        name: "tag read",
        burst: 50,
        refill: 20,
        operations: &["ListTagsForResource"],
    },
    Category {
        name: "capacity provider read",
        burst: 50,
        refill: 20,
        operations: &["DescribeCapacityProviders"],
    },
    Category {
        name: "cluster modify",
        burst: 20,
        refill: 1,
        operations: &[
            "CreateCluster",
            "DeleteCluster",
            "PutClusterCapacityProviders",
            "UpdateCluster",
            "UpdateClusterSettings",
        ],
    },
    Category {
        name: "task definition modify",
        burst: 20,
        refill: 1,
        operations: &["RegisterTaskDefinition", "DeregisterTaskDefinition"],
    },
    Category {
        name: "task definition deletion",
        burst: 5,
        refill: 1,
        operations: &["DeleteTaskDefinitions"],
    },
    Category {
        name: "capacity provider modify",
        burst: 10,
        refill: 1,
        operations: &[
            "CreateCapacityProvider",
            "DeleteCapacityProvider",
            "UpdateCapacityProvider",
        ],
    },
    Category {
        name: "tag modify",
        burst: 20,
        refill: 10,
        operations: &["TagResource", "UntagResource"],
    },
    Category {
        name: "cluster resource modify",
        burst: 100,
        refill: 40,
        operations: &["RunTask", "StartTask", "StopTask"],
    },
    Category {
        name: "service modify",
        burst: 50,
        refill: 5,
        operations: &["CreateService", "DeleteService", "UpdateService"],
    },
];

/// The category of an operation; None for one the table does not name.
pub fn category(operation: &str) -> Option<&'static Category> {
    CATEGORIES
        .iter()
        .find(|c| c.operations.contains(&operation))
}

/// Whether an operation only reads.
pub fn is_read(operation: &str) -> bool {
    operation.starts_with("Describe") || operation.starts_with("List")
}

/// How long a reserved slot waits for its holder after it is due: a holder that comes later
/// (its reconcile queued behind others) still finds it; one that never comes (its object
/// deleted) stops holding back the others.
pub const RESERVATION_GRACE: Duration = Duration::from_secs(10);

tokio::task_local! {
    /// Who is calling: the object a reconcile works for, so that its deferred request keeps one
    /// reserved slot however often it is reconciled before the slot is due.
    static HOLDER: String;
}

/// Runs `work` on behalf of `holder` (say `EcsService/ns/name`): its deferred requests hold one
/// slot per bucket, and come back to that slot.
pub async fn on_behalf_of<F: Future>(holder: String, work: F) -> F::Output {
    HOLDER.scope(holder, work).await
}

/// The holder of the running task, or a holder of its own for a call outside any reconcile.
fn holder() -> String {
    static ANONYMOUS: AtomicU64 = AtomicU64::new(0);
    HOLDER
        .try_with(Clone::clone)
        .unwrap_or_else(|_| format!("anonymous-{}", ANONYMOUS.fetch_add(1, Ordering::Relaxed)))
}

/// What a caller may do now.
#[derive(Debug, PartialEq)]
pub enum Permit {
    /// Call ECS.
    Go,
    /// A read: sleep this long, then ask again (the slot is held meanwhile).
    Wait(Duration),
    /// Come back after this long (nothing sent; the slot is held until then).
    Defer(Duration),
}

struct Bucket {
    limiter: DefaultDirectRateLimiter,
    /// One token's worth of refill time.
    interval: Duration,
    /// The slot the next reservation gets, unless later than the bucket's own next token.
    next_slot: Instant,
    /// Slots handed out and not used yet, by holder: each holder has at most one, and while any
    /// is held newcomers queue behind instead of taking the tokens the holders wait for.
    reserved: HashMap<String, Instant>,
}

/// The buckets of one operator, created on first use.
#[derive(Default)]
pub struct Budget {
    buckets: Mutex<HashMap<(String, &'static str), Bucket>>,
}

impl Budget {
    /// Takes a token for `operation` in `region` for the running task's holder, or says how to
    /// get one (see [`Permit`]).
    pub fn permit(&self, region: &str, operation: &str) -> Permit {
        self.permit_for(&holder(), region, operation)
    }

    fn permit_for(&self, holder: &str, region: &str, operation: &str) -> Permit {
        match self.take(holder, region, operation, Instant::now()) {
            Ok(()) => Permit::Go,
            Err(wait) if is_read(operation) && wait <= MAX_READ_WAIT => Permit::Wait(wait),
            Err(wait) => Permit::Defer(wait),
        }
    }

    /// Takes a token for `operation` in `region`: Ok to call ECS now, or Err with how long until
    /// the slot reserved for `holder`. Operations outside the table always pass.
    fn take(
        &self,
        holder: &str,
        region: &str,
        operation: &str,
        now: Instant,
    ) -> Result<(), Duration> {
        let Some(category) = category(operation) else {
            return Ok(());
        };
        let mut buckets = self.buckets.lock().expect("budget poisoned");
        let bucket = buckets
            .entry((region.to_string(), category.name))
            .or_insert_with(|| Bucket::new(category, now));
        bucket
            .reserved
            .retain(|_, slot| *slot + RESERVATION_GRACE > now);
        let slot = match bucket.reserved.get(holder) {
            Some(slot) => *slot,
            None if bucket.reserved.is_empty() => match bucket.limiter.check() {
                Ok(()) => return Ok(()),
                Err(not_until) => bucket.reserve(holder, now + wait_time(&not_until)),
            },
            // Holders wait for the coming tokens: queue behind them.
            None => bucket.reserve(holder, now),
        };
        if slot > now {
            return Err(slot - now);
        }
        match bucket.limiter.check() {
            Ok(()) => {
                bucket.reserved.remove(holder);
                Ok(())
            }
            // Due, but the token is a moment away (a holder before came late and took it).
            Err(not_until) => Err(wait_time(&not_until)),
        }
    }
}

impl Bucket {
    fn new(category: &Category, now: Instant) -> Self {
        let refill = NonZeroU32::new(category.refill).expect("a refill rate");
        let burst = NonZeroU32::new(category.burst).expect("a burst");
        Bucket {
            limiter: RateLimiter::direct(Quota::per_second(refill).allow_burst(burst)),
            interval: Duration::from_secs_f64(1.0 / f64::from(category.refill)),
            next_slot: now,
            reserved: HashMap::new(),
        }
    }

    /// Reserves the next free slot for `holder`: not before `earliest`, and one refill
    /// interval after the slot reserved before it.
    fn reserve(&mut self, holder: &str, earliest: Instant) -> Instant {
        let slot = earliest.max(self.next_slot);
        self.next_slot = slot + self.interval;
        self.reserved.insert(holder.to_string(), slot);
        slot
    }
}

/// How long until a refused check would pass.
fn wait_time(not_until: &governor::NotUntil<<DefaultClock as Clock>::Instant>) -> Duration {
    not_until.wait_time_from(DefaultClock::default().now())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn take(budget: &Budget, holder: &str, operation: &str, at: Instant) -> Result<(), Duration> {
        budget.take(holder, "us-east-1", operation, at)
    }

    #[test]
    fn the_burst_goes_at_once_then_deferred_writes_get_spaced_slots() {
        let budget = Budget::default();
        let now = Instant::now();
        for i in 0..50 {
            assert_eq!(
                take(&budget, &format!("s{i}"), "UpdateService", now),
                Ok(())
            );
        }
        // UpdateService refills at 5/s: the next ones get slots 200 ms apart.
        let first = take(&budget, "a", "UpdateService", now).unwrap_err();
        let second = take(&budget, "b", "UpdateService", now).unwrap_err();
        let third = take(&budget, "c", "UpdateService", now).unwrap_err();
        assert!(first <= Duration::from_millis(200), "{first:?}");
        assert_eq!(second, first + Duration::from_millis(200));
        assert_eq!(third, second + Duration::from_millis(200));
    }

    #[test]
    fn an_object_reconciled_again_keeps_its_slot() {
        let budget = Budget::default();
        let now = Instant::now();
        for i in 0..20 {
            take(&budget, &format!("td{i}"), "RegisterTaskDefinition", now).unwrap();
        }
        let a = take(&budget, "a", "RegisterTaskDefinition", now).unwrap_err();
        // "a" comes back (a watch event) before its slot: the same slot, none taken for it twice.
        let again = take(
            &budget,
            "a",
            "RegisterTaskDefinition",
            now + Duration::from_millis(100),
        );
        assert_eq!(again, Err(a - Duration::from_millis(100)));
        let b = take(&budget, "b", "RegisterTaskDefinition", now).unwrap_err();
        assert_eq!(b, a + Duration::from_secs(1));
    }

    #[test]
    fn newcomers_queue_behind_the_holders_and_each_holder_gets_its_token() {
        let budget = Budget::default();
        let start = Instant::now();
        for i in 0..20 {
            take(&budget, &format!("td{i}"), "RegisterTaskDefinition", start).unwrap();
        }
        // Ten deferred, then each comes back at its slot: every one is served, in order, and a
        // newcomer arriving meanwhile is not served before them.
        let slots: Vec<Instant> = (0..10)
            .map(|i| {
                start
                    + take(&budget, &format!("h{i}"), "RegisterTaskDefinition", start).unwrap_err()
            })
            .collect();
        let newcomer = take(&budget, "late", "RegisterTaskDefinition", slots[0]).unwrap_err();
        assert!(
            slots[0] + newcomer > slots[9],
            "the newcomer is served after the holders"
        );
        // Real time has to pass for governor's clock; wait for the first slot only.
        std::thread::sleep(slots[0].saturating_duration_since(Instant::now()));
        assert_eq!(
            take(&budget, "h0", "RegisterTaskDefinition", slots[0]),
            Ok(())
        );
        // Served: a second request of h0 is a new reservation, behind the newcomer.
        let h0_again = take(&budget, "h0", "RegisterTaskDefinition", slots[0]).unwrap_err();
        assert!(h0_again > newcomer, "{h0_again:?} {newcomer:?}");
    }

    #[test]
    fn a_slot_nobody_comes_for_is_released() {
        let budget = Budget::default();
        let now = Instant::now();
        for i in 0..20 {
            take(&budget, &format!("td{i}"), "RegisterTaskDefinition", now).unwrap();
        }
        let gone = take(&budget, "deleted", "RegisterTaskDefinition", now).unwrap_err();
        // Long after its slot (and grace), the holder is forgotten: newcomers are not held back.
        let later = now + gone + RESERVATION_GRACE + Duration::from_millis(1);
        let _ = take(&budget, "other", "RegisterTaskDefinition", later);
        let buckets = budget.buckets.lock().unwrap();
        let bucket = &buckets[&("us-east-1".to_string(), "task definition modify")];
        assert!(!bucket.reserved.contains_key("deleted"));
    }

    #[test]
    fn categories_and_regions_have_their_own_buckets_and_reads_pass() {
        let budget = Budget::default();
        let now = Instant::now();
        for i in 0..20 {
            take(&budget, &format!("td{i}"), "RegisterTaskDefinition", now).unwrap();
        }
        assert!(take(&budget, "x", "RegisterTaskDefinition", now).is_err());
        // Another category, another region: unaffected.
        assert!(take(&budget, "x", "UpdateService", now).is_ok());
        assert!(
            budget
                .take("x", "eu-west-1", "RegisterTaskDefinition", now)
                .is_ok()
        );
        // Reads have buckets of their own: DescribeServices 100 at once, then the next ones wait
        // (a short wait, inside the call) or, beyond a second, are deferred.
        for i in 0..100 {
            assert_eq!(
                budget.permit_for(&format!("r{i}"), "us-east-1", "DescribeServices"),
                Permit::Go
            );
        }
        assert!(matches!(
            budget.permit_for("w", "us-east-1", "DescribeServices"),
            Permit::Wait(_)
        ));
        for i in 0..30 {
            let _ = budget.permit_for(&format!("q{i}"), "us-east-1", "DescribeServices");
        }
        assert!(matches!(
            budget.permit_for("d", "us-east-1", "DescribeServices"),
            Permit::Defer(_)
        ));
    }

    #[test]
    fn every_write_the_operator_makes_has_a_category() {
        for operation in [
            "CreateCluster",
            "UpdateCluster",
            "PutClusterCapacityProviders",
            "DeleteCluster",
            "RegisterTaskDefinition",
            "DeregisterTaskDefinition",
            "DeleteTaskDefinitions",
            "CreateService",
            "UpdateService",
            "DeleteService",
            "CreateCapacityProvider",
            "UpdateCapacityProvider",
            "DeleteCapacityProvider",
            "TagResource",
            "UntagResource",
        ] {
            assert!(category(operation).is_some(), "{operation}");
        }
    }
}
