//! ECS's request budget: one token bucket per region and API category, with ECS's burst and
//! refill ("Request throttling for the Amazon ECS API", ECS API reference), so that the operator
//! on its own is never throttled and still uses the burst ECS allows (50 UpdateService calls at
//! once, then 5 per second).
//!
//! A write that finds its bucket empty is not waited for inside a reconcile, where a worker would
//! sit idle: [`Budget::take`] answers when a token is due for it, and the reconcile requeues for
//! then. Deferred writes get slots one refill interval apart, so that a thousand of them do not
//! all come back at the same instant. A read whose token is due within [`MAX_READ_WAIT`] waits
//! for it (reads refill at 20 per second); one due later is deferred like a write.

use std::collections::HashMap;
use std::num::NonZeroU32;
use std::sync::{Arc, Mutex};
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

/// What a caller may do now.
pub enum Permit {
    /// Call ECS.
    Go,
    /// A read: wait for this bucket's next token, then call ECS.
    Wait(Arc<DefaultDirectRateLimiter>),
    /// Come back after this long (nothing sent).
    Defer(Duration),
}

struct Bucket {
    limiter: Arc<DefaultDirectRateLimiter>,
    /// One token's worth of refill time.
    interval: Duration,
    /// The next slot handed to a deferred write.
    next_slot: Instant,
}

/// The buckets of one operator, created on first use.
#[derive(Default)]
pub struct Budget {
    buckets: Mutex<HashMap<(String, &'static str), Bucket>>,
}

impl Budget {
    /// Takes a token for `operation` in `region`, or says how to get one (see [`Permit`]).
    pub fn permit(&self, region: &str, operation: &str) -> Permit {
        match self.take(region, operation) {
            Ok(()) => Permit::Go,
            Err(wait) if is_read(operation) && wait <= MAX_READ_WAIT => {
                Permit::Wait(self.limiter(region, operation))
            }
            Err(wait) => Permit::Defer(wait),
        }
    }

    fn limiter(&self, region: &str, operation: &str) -> Arc<DefaultDirectRateLimiter> {
        let category = category(operation).expect("a budgeted operation");
        let buckets = self.buckets.lock().expect("budget poisoned");
        buckets[&(region.to_string(), category.name)]
            .limiter
            .clone()
    }

    /// Takes a token for `operation` in `region`: Ok to call ECS now, or Err with how long to
    /// wait before trying again (the slot reserved for this caller). Operations outside the
    /// table always pass.
    pub fn take(&self, region: &str, operation: &str) -> Result<(), Duration> {
        let Some(category) = category(operation) else {
            return Ok(());
        };
        let mut buckets = self.buckets.lock().expect("budget poisoned");
        let bucket = buckets
            .entry((region.to_string(), category.name))
            .or_insert_with(|| Bucket::new(category));
        let now = Instant::now();
        match bucket.limiter.check() {
            Ok(()) => Ok(()),
            Err(not_until) => {
                let due = now + not_until.wait_time_from(DefaultClock::default().now());
                let slot = due.max(bucket.next_slot);
                bucket.next_slot = slot + bucket.interval;
                Err(slot - now)
            }
        }
    }
}

impl Bucket {
    fn new(category: &Category) -> Self {
        let refill = NonZeroU32::new(category.refill).expect("a refill rate");
        let burst = NonZeroU32::new(category.burst).expect("a burst");
        Bucket {
            limiter: Arc::new(RateLimiter::direct(
                Quota::per_second(refill).allow_burst(burst),
            )),
            interval: Duration::from_secs_f64(1.0 / f64::from(category.refill)),
            next_slot: Instant::now(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_burst_goes_at_once_then_deferred_writes_get_spaced_slots() {
        let budget = Budget::default();
        for _ in 0..50 {
            assert_eq!(budget.take("us-east-1", "UpdateService"), Ok(()));
        }
        // UpdateService refills at 5/s: the next ones wait, 200 ms apart.
        let first = budget.take("us-east-1", "UpdateService").unwrap_err();
        let second = budget.take("us-east-1", "UpdateService").unwrap_err();
        let third = budget.take("us-east-1", "UpdateService").unwrap_err();
        assert!(first <= Duration::from_millis(200), "{first:?}");
        assert!(
            second >= first + Duration::from_millis(150),
            "{first:?} {second:?}"
        );
        assert!(
            third >= second + Duration::from_millis(150),
            "{second:?} {third:?}"
        );
    }

    #[test]
    fn categories_and_regions_have_their_own_buckets_and_reads_pass() {
        let budget = Budget::default();
        for _ in 0..20 {
            budget.take("us-east-1", "RegisterTaskDefinition").unwrap();
        }
        assert!(budget.take("us-east-1", "RegisterTaskDefinition").is_err());
        // Another category, another region: unaffected.
        assert!(budget.take("us-east-1", "UpdateService").is_ok());
        assert!(budget.take("eu-west-1", "RegisterTaskDefinition").is_ok());
        // Reads have buckets of their own: DescribeServices 100 at once, then the next ones wait
        // (a short wait, inside the call) or, beyond a second, are deferred.
        for _ in 0..100 {
            assert!(matches!(
                budget.permit("us-east-1", "DescribeServices"),
                Permit::Go
            ));
        }
        assert!(matches!(
            budget.permit("us-east-1", "DescribeServices"),
            Permit::Wait(_)
        ));
        for _ in 0..30 {
            let _ = budget.permit("us-east-1", "DescribeServices");
        }
        assert!(matches!(
            budget.permit("us-east-1", "DescribeServices"),
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
            "TagResource",
            "UntagResource",
        ] {
            assert!(category(operation).is_some(), "{operation}");
        }
    }
}
